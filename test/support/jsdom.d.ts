// The part of jsdom the tests use. @types/jsdom brings undici-types 7, whose fetch types clash with
// @types/node 20's (src/emulator stops typechecking), and the project has no DOM lib: only this much
// is declared here.
declare module 'jsdom' {
  export interface XmlElement {
    getAttribute(name: string): string | null;
    getElementsByTagName(name: string): ArrayLike<XmlElement> & Iterable<XmlElement>;
  }
  export interface XmlDocument {
    documentElement: XmlElement;
    getElementsByTagName(name: string): ArrayLike<XmlElement> & Iterable<XmlElement>;
  }
  export interface DomWindow {
    document: unknown;
    DOMParser: new () => { parseFromString(text: string, type: 'application/xml'): XmlDocument };
  }
  export class JSDOM {
    constructor(html?: string);
    readonly window: DomWindow;
  }
}
