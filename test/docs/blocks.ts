/**
 * The shell blocks of a Markdown document, with what the docs check needs to know about each:
 * whether it is run (a `<!-- check: run -->` comment on the line before its fence) or why not
 * (`<!-- check: not run: <reason> -->`; `<!-- check: run, expecting a problem -->` for a block that
 * shows an error response on purpose), and the response fields the document says come back
 * (the keys of a ```json block right after it and of `# {…}` comment lines inside it).
 *
 * A block counts as shell when its fence says sh, bash, shell or console, or when an unlabelled
 * block starts with a command (curl, npm, npx, wrangler, node): a command a reader can copy is a
 * command that must be run or say why it is not.
 */
export type ShellBlock = {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  code: string;
  /** `problem`: the block shows an error on purpose (`<!-- check: run, expecting a problem -->`). */
  mark: { run: true; problem: boolean } | { run: false; reason: string } | undefined;
  /** Keys of the documented response, e.g. ["id", "status"]; checked to appear in the output. */
  fields: string[];
};

const SHELL = new Set(["sh", "bash", "shell", "console"]);
const COMMAND = /^\s*(curl|npm|npx|wrangler|node)\s/;
const MARK = /^<!--\s*check:\s*(run(, expecting a problem)?|not run:\s*(.+?))\s*-->\s*$/;

export function shellBlocks(file: string, markdown: string): ShellBlock[] {
  const lines = markdown.split("\n");
  const blocks: ShellBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,})\s*([\w-]*)/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, lang] = open;
    const end = findClose(lines, i + 1, fence!);
    const code = lines.slice(i + 1, end).map((l) => l.slice(indent!.length)).join("\n");
    const isShell = SHELL.has(lang!) || (lang === "" && COMMAND.test(code.split("\n").find((l) => l.trim() && !l.trim().startsWith("#")) ?? ""));
    if (isShell) {
      const m = MARK.exec(lines[i - 1]?.trim() ?? "");
      blocks.push({
        file,
        line: i + 1,
        code,
        mark: !m ? undefined : m[3] ? { run: false, reason: m[3] } : { run: true, problem: Boolean(m[2]) },
        fields: [...commentFields(code), ...jsonAfter(lines, end + 1)],
      });
    }
    i = end;
  }
  return blocks;
}

function findClose(lines: string[], from: number, fence: string) {
  for (let j = from; j < lines.length; j++) if (lines[j]!.trim().startsWith(fence) && lines[j]!.trim().replace(/`/g, "") === "") return j;
  return lines.length;
}

/** Keys in `# {"id":"…",…}` / `# 201 {…}` lines: the documented output of the command above them. */
function commentFields(code: string) {
  return code
    .split("\n")
    .filter((l) => /^\s*#\s*(\d{3}\s+)?[{["]/.test(l) || /^\s*#\s{2,}/.test(l))
    .flatMap((l) => keysIn(l));
}

/** Keys of a ```json block that follows (after blank lines at most). */
function jsonAfter(lines: string[], from: number) {
  let j = from;
  while (j < lines.length && lines[j]!.trim() === "") j++;
  if (!/^\s*```json\s*$/.test(lines[j] ?? "")) return [];
  const end = findClose(lines, j + 1, "```");
  return lines.slice(j + 1, end).flatMap((l) => keysIn(l));
}

/** `"name":` keys; "…" placeholders stand for fields left out and are not checked. */
function keysIn(line: string) {
  return [...line.matchAll(/"([A-Za-z_][\w-]*)"\s*:/g)].map((m) => m[1]!);
}
