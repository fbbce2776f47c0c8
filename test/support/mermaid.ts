/**
 * Mermaid's own parser, headless: mermaid needs a DOM (DOMPurify) even to parse, so a jsdom window
 * is installed as the global one first. Throws on a diagram Mermaid would not render.
 */
import { JSDOM } from 'jsdom';

type Mermaid = { parse(text: string): Promise<unknown> };
let mermaid: Promise<Mermaid> | undefined;

/** Parses one diagram with mermaid's parse; rejects with mermaid's error when it is invalid. */
export async function parseMermaid(text: string): Promise<unknown> {
  mermaid ??= (async () => {
    const { window } = new JSDOM('');
    Object.assign(globalThis, { window, document: window.document });
    const mod = (await import('mermaid')) as unknown as { default: Mermaid };
    return mod.default;
  })();
  return (await mermaid).parse(text);
}

/** The bodies of the ```mermaid blocks of a Markdown text. */
export function mermaidBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```mermaid\n([\s\S]*?)\n```/g)].map((m) => m[1]);
}
