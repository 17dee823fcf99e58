/** What every page gets: the key's scopes, the main region, a polite announcer, and error display. */
import { ApiFailure } from './api';
import { h, replace } from './dom';

export type Scope = 'send' | 'read' | 'admin';

export interface Ctx {
  readonly scopes: readonly Scope[];
  readonly main: HTMLElement;
  /** Says something to screen readers (and shows nothing). */
  announce(text: string): void;
  /** Whether this page is still the one shown (a page that polls stops when it is not). */
  current(): boolean;
}

export interface Page {
  /** The hash path, e.g. "messages" for #/messages. */
  readonly path: string;
  readonly title: string;
  /** The scope a key needs to see the page in the menu. */
  readonly scope: Scope;
  render(ctx: Ctx, params: readonly string[]): Promise<void>;
}

/** Starts a page: its heading, focused so keyboard and screen-reader users land on it. */
export function begin(ctx: Ctx, title: string, ...intro: (Node | string | null)[]): void {
  document.title = `${title} · mailroute console`;
  const heading = h('h1', { tabindex: '-1' }, title);
  replace(ctx.main, heading, ...intro);
  heading.focus();
}

/** A failure as a paragraph (an alert, so it is read out). */
export function failure(e: unknown): HTMLParagraphElement {
  const message = e instanceof ApiFailure ? e.message : e instanceof Error ? e.message : String(e);
  return h('p', { class: 'error', role: 'alert' }, message);
}

export const can = (ctx: Ctx, scope: Scope): boolean => ctx.scopes.includes(scope);
