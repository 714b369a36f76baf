/**
 * Renders an answer's Markdown by building DOM nodes from marked's tokens, never by parsing
 * HTML: text is only ever set as text, so nothing the LLM writes can become markup or script.
 * Raw HTML in an answer is shown as the text it is; links work only for http(s) and mailto.
 */
import { Lexer, type Token, type Tokens } from 'marked';

export function renderMarkdown(source: string): DocumentFragment {
  const fragment = document.createDocumentFragment();
  blocks(Lexer.lex(source, { gfm: true }), fragment);
  return fragment;
}

function blocks(tokens: Token[], parent: Node): void {
  for (const token of tokens) parent.appendChild(block(token));
}

function block(token: Token): Node {
  const t = token as Tokens.Generic;
  switch (token.type) {
    case 'heading': {
      // The page's own headings are h1 and h2; an answer's start at h3.
      const level = Math.min(6, (token as Tokens.Heading).depth + 2);
      return withInline(el(`h${level}`), t.tokens);
    }
    case 'paragraph':
      return withInline(el('p'), t.tokens);
    case 'code': {
      const pre = el('pre');
      const code = pre.appendChild(el('code'));
      code.textContent = (token as Tokens.Code).text;
      return pre;
    }
    case 'blockquote': {
      const quote = el('blockquote');
      blocks((token as Tokens.Blockquote).tokens, quote);
      return quote;
    }
    case 'list': {
      const list = token as Tokens.List;
      const node = el(list.ordered ? 'ol' : 'ul');
      if (list.ordered && typeof list.start === 'number' && list.start !== 1) {
        node.setAttribute('start', String(list.start));
      }
      for (const item of list.items) {
        const li = node.appendChild(el('li'));
        if (item.task) {
          const box = li.appendChild(el('input'));
          box.type = 'checkbox';
          box.checked = item.checked ?? false;
          box.disabled = true;
        }
        blocks(item.tokens, li);
      }
      return node;
    }
    case 'table': {
      const table = token as Tokens.Table;
      const node = el('table');
      const head = node.appendChild(el('thead')).appendChild(el('tr'));
      for (const cell of table.header) head.appendChild(withInline(el('th'), cell.tokens));
      const body = node.appendChild(el('tbody'));
      for (const row of table.rows) {
        const tr = body.appendChild(el('tr'));
        for (const cell of row) tr.appendChild(withInline(el('td'), cell.tokens));
      }
      const wrapper = el('div');
      wrapper.className = 'table-scroll';
      wrapper.appendChild(node);
      return wrapper;
    }
    case 'hr':
      return el('hr');
    case 'space':
    case 'def':
      return document.createDocumentFragment();
    case 'text':
      // A list item's text: inline tokens without a paragraph around them.
      return t.tokens
        ? withInline(document.createDocumentFragment(), t.tokens)
        : text(String(t.text));
    default:
      // 'html' and anything unknown: shown as the text it is.
      return withText(el('p'), token.raw);
  }
}

function withInline<T extends Node>(parent: T, tokens: Token[] | undefined): T {
  for (const token of tokens ?? []) parent.appendChild(inline(token));
  return parent;
}

function inline(token: Token): Node {
  const t = token as Tokens.Generic;
  switch (token.type) {
    case 'strong':
      return withInline(el('strong'), t.tokens);
    case 'em':
      return withInline(el('em'), t.tokens);
    case 'del':
      return withInline(el('del'), t.tokens);
    case 'codespan':
      return withText(el('code'), (token as Tokens.Codespan).text);
    case 'br':
      return el('br');
    case 'link': {
      const link = token as Tokens.Link;
      if (!isSafeHref(link.href)) return withInline(document.createDocumentFragment(), t.tokens);
      const a = el('a');
      a.href = link.href;
      a.rel = 'noopener noreferrer nofollow';
      a.target = '_blank';
      return withInline(a, t.tokens);
    }
    case 'image': {
      // Images from elsewhere are not loaded (the page's policy forbids it): a link instead.
      const image = token as Tokens.Image;
      if (!isSafeHref(image.href)) return text(image.text);
      const a = el('a');
      a.href = image.href;
      a.rel = 'noopener noreferrer nofollow';
      a.target = '_blank';
      a.textContent = image.text || image.href;
      return a;
    }
    case 'escape':
      return text(String(t.text));
    case 'text':
      return t.tokens
        ? withInline(document.createDocumentFragment(), t.tokens)
        : text(String(t.text));
    default:
      // Inline 'html' and anything unknown.
      return text(token.raw);
  }
}

function isSafeHref(href: string): boolean {
  try {
    return ['http:', 'https:', 'mailto:'].includes(new URL(href, location.href).protocol);
  } catch {
    return false;
  }
}

const ENTITIES: Record<string, string> = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#39;': "'",
};

/** Text as the reader should see it: the few entities Markdown writers use, decoded. */
function text(value: string): Text {
  return document.createTextNode(value.replace(/&(amp|lt|gt|quot|#39);/g, (m) => ENTITIES[m]!));
}

function withText<T extends HTMLElement>(node: T, value: string): T {
  node.appendChild(text(value));
  return node;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K): HTMLElementTagNameMap[K];
function el(tag: string): HTMLElement;
function el(tag: string): HTMLElement {
  return document.createElement(tag);
}
