/** Building the page from data without ever parsing HTML: every text is a text node. */

type Child = Node | string | number | null | undefined | false;
type Attrs = Readonly<Record<string, string | number | boolean | undefined | ((e: Event) => void)>>;

/** An element with attributes (`on…` ones become listeners; `true` sets an empty attribute) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: readonly Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.slice(2).toLowerCase(), value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  append(el, ...children);
  return el;
}

export function append(parent: Node, ...children: readonly Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

/** Replaces an element's children. */
export function replace(parent: Element, ...children: readonly Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/** A labelled input with its error slot, wired for assistive technology (`aria-describedby`). */
export function field(
  id: string,
  label: string,
  control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement,
  hint?: string,
): HTMLDivElement {
  control.id = id;
  control.name = control.name || id;
  const error = h('div', { id: `${id}-error`, class: 'field-error' });
  const hintEl = hint ? h('div', { id: `${id}-hint`, class: 'hint' }, hint) : null;
  control.setAttribute('aria-describedby', [hintEl ? `${id}-hint` : '', `${id}-error`].filter(Boolean).join(' '));
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hintEl, error);
}

/** A select with its options (value, label); the first is chosen unless `selected` says otherwise. */
export function select(options: readonly (readonly [string, string])[], selected = ''): HTMLSelectElement {
  const el = h('select');
  for (const [value, label] of options) {
    const o = h('option', { value }, label);
    if (value === selected) o.selected = true;
    el.append(o);
  }
  return el;
}

/** A table with a caption, column headers and rows (each cell text or a node). */
export function table(
  caption: string,
  headers: readonly string[],
  rows: readonly (readonly Child[])[],
): HTMLTableElement {
  return h(
    'table',
    {},
    h('caption', { class: 'visually-hidden' }, caption),
    h('thead', {}, h('tr', {}, ...headers.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, ...rows.map((cells) => h('tr', {}, ...cells.map((c) => h('td', {}, c))))),
  );
}

/** A definition list of label → value. */
export function props(entries: readonly (readonly [string, Child])[]): HTMLDListElement {
  const dl = h('dl', { class: 'props' });
  for (const [k, v] of entries) append(dl, h('dt', {}, k), h('dd', {}, v ?? '—'));
  return dl;
}

export const when = (iso: string | null | undefined): string => (iso ? new Date(iso).toLocaleString() : '—');
