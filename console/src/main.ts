/**
 * The operator console: sign in with an API key (kept in sessionStorage, for this tab only), then the
 * pages the key's scopes allow, routed by the URL's hash (#/messages, #/providers, …).
 */
import { ApiFailure, call, session } from './api';
import { field, h, replace } from './dom';
import { messagesPage } from './messages';
import { providersPage } from './providers';
import { queuesPage } from './queues';
import { sendPage } from './send';
import { begin, type Ctx, failure, type Page, type Scope } from './shell';
import { streamsPage } from './streams';
import { suppressionsPage } from './suppressions';
import { templatesPage } from './templates';
import { webhooksPage } from './webhooks';

const PAGES: readonly Page[] = [
  messagesPage,
  sendPage,
  providersPage,
  suppressionsPage,
  streamsPage,
  templatesPage,
  queuesPage,
  webhooksPage,
];

interface KeyView {
  readonly name: string;
  readonly scopes: readonly Scope[];
}

const main = document.getElementById('main') as HTMLElement;
const nav = document.getElementById('nav') as HTMLElement;
const who = document.getElementById('who') as HTMLElement;
const announcer = document.getElementById('announce') as HTMLElement;

let key: KeyView | undefined;
/** Counts renders, so a page that polls knows when another has replaced it. */
let renders = 0;

const announce = (text: string) => {
  announcer.textContent = text;
};

function signInPage(message?: string): void {
  replace(nav);
  replace(who);
  const input = h('input', { type: 'password', autocomplete: 'off', spellcheck: 'false', required: true });
  const error = h('div', { id: 'signin-error', class: 'field-error', role: 'alert' }, message ?? '');
  const form = h(
    'form',
    {
      class: 'stack',
      'aria-label': 'Sign in',
      onsubmit: (e: Event) => {
        e.preventDefault();
        void signIn(input.value.trim(), error);
      },
    },
    field('api-key', 'API key', input, 'Kept in this tab only; closing the tab signs you out.'),
    error,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Sign in')),
  );
  const ctx: Ctx = { scopes: [], main, announce, current: () => true };
  begin(ctx, 'Sign in', form);
  input.focus();
}

async function signIn(value: string, error: HTMLElement): Promise<void> {
  if (!value) {
    error.textContent = 'Enter an API key.';
    return;
  }
  session.signIn(value);
  if (await loadKey()) route();
  else {
    session.signOut();
    error.textContent = 'That key was not accepted.';
  }
}

/** Reads the signed-in key's name and scopes; false when the key is refused. */
async function loadKey(): Promise<boolean> {
  try {
    key = await call<KeyView>('GET', '/v1/key');
    return true;
  } catch (e) {
    key = undefined;
    if (e instanceof ApiFailure && e.status === 401) return false;
    throw e;
  }
}

function signOut(): void {
  session.signOut();
  key = undefined;
  location.hash = '';
  signInPage();
}

function drawNav(active: Page | undefined): void {
  if (!key) return;
  const allowed = PAGES.filter((p) => key?.scopes.includes(p.scope));
  replace(
    nav,
    h(
      'ul',
      {},
      ...allowed.map((p) =>
        h('li', {}, h('a', { href: `#/${p.path}`, ...(p === active ? { 'aria-current': 'page' } : {}) }, p.title)),
      ),
    ),
  );
  replace(
    who,
    `Signed in as ${key.name} (${key.scopes.join(', ')}) `,
    h('button', { type: 'button', class: 'secondary', onclick: signOut }, 'Sign out'),
  );
}

function route(): void {
  if (!key) {
    signInPage();
    return;
  }
  const [path = '', ...params] = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const allowed = PAGES.filter((p) => key?.scopes.includes(p.scope));
  const page = allowed.find((p) => p.path === path) ?? allowed[0];
  drawNav(page);
  const mine = ++renders;
  const ctx: Ctx = { scopes: key.scopes, main, announce, current: () => mine === renders };
  if (!page) {
    begin(ctx, 'Nothing to show', h('p', {}, 'This key has no scope the console can show.'));
    return;
  }
  page.render(ctx, page.path === path ? params : []).catch((e: unknown) => {
    if (e instanceof ApiFailure && e.status === 401) signOut();
    else main.append(failure(e));
  });
}

window.addEventListener('hashchange', () => {
  // The skip link's #main is not a page.
  if (location.hash.startsWith('#/') || location.hash === '') route();
});

async function start(): Promise<void> {
  if (!session.key()) {
    signInPage();
    return;
  }
  try {
    if (await loadKey()) {
      route();
      return;
    }
    session.signOut();
    signInPage('Your key is no longer accepted; sign in again.');
  } catch (e) {
    signInPage(e instanceof Error ? e.message : String(e));
  }
}

void start();
