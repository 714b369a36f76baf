/**
 * The history's filters: the form's fields (Search, Status, Kind, From, To), the page's URL
 * that keeps them, and the API's Filters they become. Search waits for typing to pause.
 */
import type { Filters } from './api.js';
import { byId } from './dom.js';
import { dayEnd, dayStart } from './format.js';

const form = byId<HTMLFormElement>('filters');
const search = byId<HTMLInputElement>('search');
/** The fields other than Search, by the name they have in the URL and in GET /qas. */
const fields = {
  status: byId<HTMLSelectElement>('status'),
  kind: byId<HTMLSelectElement>('kind'),
  since: byId<HTMLInputElement>('since'),
  until: byId<HTMLInputElement>('until'),
};

/** Sets the fields from the page's URL; a value a select does not offer leaves it at "any". */
export function readUrl(): void {
  const params = new URLSearchParams(location.search);
  search.value = params.get('q') ?? '';
  for (const [name, field] of Object.entries(fields)) {
    field.value = params.get(name) ?? '';
    if (field instanceof HTMLSelectElement && field.selectedIndex === -1) field.value = '';
  }
}

/** Puts the fields (and the open question's id, if one is open) in the page's URL. */
export function writeUrl(openId?: number): void {
  const params = new URLSearchParams();
  const query = search.value.trim();
  if (query) params.set('q', query);
  for (const [name, field] of Object.entries(fields))
    if (field.value) params.set(name, field.value);
  if (openId !== undefined) params.set('id', String(openId));
  const text = params.toString();
  history.replaceState(null, '', text ? `?${text}` : location.pathname);
}

export function currentFilters(): Filters {
  return {
    q: search.value.trim() || undefined,
    status: fields.status.value || undefined,
    kind: fields.kind.value || undefined,
    since: dayStart(fields.since.value),
    until: dayEnd(fields.until.value),
  };
}

export const hasFilters = () => Object.values(currentFilters()).some(Boolean);

/** Calls `changed` (after writing the URL) whenever the filters change. */
export function onFiltersChange(changed: () => void): void {
  let typing: ReturnType<typeof setTimeout> | undefined;
  const filtersChanged = () => {
    writeUrl();
    changed();
  };
  search.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(filtersChanged, 300);
  });
  for (const field of Object.values(fields)) field.addEventListener('change', filtersChanged);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearTimeout(typing);
    filtersChanged();
  });
}
