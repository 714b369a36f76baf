/**
 * The API-key prompt: when askbase wants a key, a modal dialog asks for one (again, saying so, when
 * the one given was not accepted), keeps it for the tab, and the call is made again.
 */
import { ApiError, apiKey } from './api.js';
import { byId } from './dom.js';

const keyDialog = byId<HTMLDialogElement>('key-dialog');
const keyForm = byId<HTMLFormElement>('key-form');
const keyField = byId<HTMLInputElement>('api-key');
const keyError = byId('key-error');

let keyPrompt: Promise<void> | undefined;

function askForKey(rejected: boolean): Promise<void> {
  keyPrompt ??= new Promise((resolve) => {
    keyError.textContent = rejected ? 'That key was not accepted. Check it and try again.' : '';
    keyDialog.showModal();
    keyForm.onsubmit = (event) => {
      event.preventDefault();
      apiKey.set(keyField.value.trim());
      keyField.value = '';
      keyDialog.close();
      keyPrompt = undefined;
      resolve();
    };
  });
  return keyPrompt;
}

export function startKeyPrompt(): void {
  // Without a key nothing works, so Escape does not dismiss the prompt.
  keyDialog.addEventListener('cancel', (event) => event.preventDefault());
}

/** Runs an API call; when askbase wants a key, asks for one (again, if it was wrong) and retries. */
export async function withKey<T>(action: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await action();
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) throw error;
      const rejected = apiKey.get() !== undefined;
      apiKey.clear();
      await askForKey(rejected);
    }
  }
}
