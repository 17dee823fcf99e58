/** A form's API errors: each next to the field it names (`details[].path`), the rest above the form. */
import type { FieldIssue } from './api';

export interface FormErrors {
  clear(): void;
  show(message: string, issues: readonly FieldIssue[]): void;
}

/**
 * `prefix` names the error slots (`<prefix>-<field>-error`); `fieldOf` says which field an issue's
 * path belongs to (undefined: none of them, shown above the form).
 */
export function formErrors<F extends string>(
  prefix: string,
  fields: readonly F[],
  controls: Readonly<Record<F, HTMLElement>>,
  formError: HTMLElement,
  fieldOf: (path: string) => F | undefined,
): FormErrors {
  const slotOf = (name: F) => document.getElementById(`${prefix}-${name}-error`);
  return {
    clear() {
      formError.textContent = '';
      for (const name of fields) {
        controls[name].removeAttribute('aria-invalid');
        const slot = slotOf(name);
        if (slot) slot.textContent = '';
      }
    },
    show(message, issues) {
      const unplaced: string[] = [];
      let first: HTMLElement | undefined;
      for (const issue of issues) {
        const name = fieldOf(issue.path);
        const slot = name && slotOf(name);
        if (!name || !slot) {
          unplaced.push(issue.path ? `${issue.path}: ${issue.message}` : issue.message);
          continue;
        }
        slot.textContent = slot.textContent ? `${slot.textContent} ${issue.message}` : issue.message;
        controls[name].setAttribute('aria-invalid', 'true');
        first ??= controls[name];
      }
      formError.textContent = [message, ...unplaced].join(' ');
      first?.focus();
    },
  };
}
