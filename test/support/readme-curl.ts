/**
 * The curl examples of a README, as test/integration/readme-examples.test.ts runs them and
 * test/unit/app/openapi.test.ts checks them against the OpenAPI document.
 *
 * The convention (README.md, "API"): an example is a command starting with `curl` in a ```sh block
 * whose first line that is not a comment is a curl command; the `# …` lines right after it show its
 * answer: an optional status and the JSON body, where `…` stands for what varies.
 */

export interface CurlExample {
  /** 1-based line of the README where the command starts. */
  readonly line: number;
  readonly command: string;
  /** The status the README shows, if any. */
  readonly status?: number;
  /** The answer's body as the README shows it (with `…`), if any. */
  readonly body?: string;
  /** Every `# …` line shown under the command (e.g. `(with the header Allow: GET)`). */
  readonly shown: string;
}

/** Whether a shell command is complete: no trailing backslash, no open single quote. */
const complete = (text: string): boolean => !text.endsWith('\\') && (text.match(/'/g) ?? []).length % 2 === 0;

/** The curl examples of a README, in order (see the convention above). */
export function curlExamples(markdown: string): CurlExample[] {
  const lines = markdown.split('\n');
  const examples: CurlExample[] = [];
  let inFence = false;
  let inExamples = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (/^\s*```/.test(line)) {
      inFence = !inFence;
      // A ```sh block of examples: its first line that is not a comment is a curl command.
      const first = inFence && /^\s*```sh\s*$/.test(line) ? lines.slice(i + 1).find((l) => !/^\s*#/.test(l)) : '';
      inExamples = inFence && /^\s*curl /.test(first ?? '');
      continue;
    }
    if (!inExamples || !/^\s*curl /.test(line)) continue;
    const start = i;
    let command = line.trim();
    while (!complete(command) && i + 1 < lines.length) command += `\n${lines[++i]}`;
    const shown: string[] = [];
    while (/^\s*#( |$)/.test(lines[i + 1] ?? '')) shown.push((lines[++i] ?? '').replace(/^\s*# ?/, ''));
    const text = shown.join('\n').trim();
    const status = /^(\d{3})\b/.exec(text);
    const body = (status ? text.slice(3) : text).trim();
    examples.push({
      line: start + 1,
      command,
      shown: text,
      ...(status ? { status: Number(status[1]) } : {}),
      ...(body.startsWith('{') ? { body } : {}),
    });
  }
  return examples;
}
