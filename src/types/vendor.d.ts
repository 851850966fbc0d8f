// Typings for the parts of untyped dependencies that this project uses.

declare module 'ltx' {
  export type Node = Element | string;
  export class Element {
    constructor(name: string, attrs?: Record<string, string | number | undefined | null>);
    name: string;
    attrs: Record<string, string>;
    children: Node[];
    parent: Element | null;
    is(name: string, xmlns?: string): boolean;
    getName(): string;
    getNS(): string | undefined;
    attr(name: string): string | undefined;
    attr(name: string, value: string | number | null | undefined): this;
    getChild(name: string, xmlns?: string): Element | undefined;
    getChildren(name: string, xmlns?: string): Element[];
    getChildElements(): Element[];
    getChildText(name: string, xmlns?: string): string | null;
    getChildByAttr(attr: string, value: string, xmlns?: string, recursive?: boolean): Element | undefined;
    getText(): string;
    text(): string;
    text(value: string): this;
    c(name: string, attrs?: Record<string, string | number | undefined | null>): Element;
    cnode(child: Element): Element;
    t(text: string): this;
    up(): Element;
    root(): Element;
    append(...nodes: Node[]): void;
    prepend(...nodes: Node[]): void;
    remove(el: Element | string, xmlns?: string): this;
    toString(): string;
    write(writer: (s: string) => void): void;
  }
  export function parse(xml: string): Element;
  /** Deep copy (ltx 3 has no clone method on Element). */
  export function clone(el: Element): Element;
  export function escapeXML(s: string): string;
  export function unescapeXML(s: string): string;
  export function escapeXMLText(s: string): string;
  export function createElement(name: string, attrs?: Record<string, string | undefined>, ...children: Node[]): Element;
  export function xml(strings: TemplateStringsArray, ...values: unknown[]): Element;
}

declare module '@xmpp/jid' {
  export class JID {
    constructor(local: string | null | undefined, domain: string, resource?: string | null);
    local: string;
    domain: string;
    resource: string;
    bare(): JID;
    equals(other: JID): boolean;
    toString(unescape?: boolean): string;
    getLocal(unescape?: boolean): string;
  }
  export function jid(address: string): JID;
  export function jid(local: string | null | undefined, domain: string, resource?: string | null): JID;
  export function parse(address: string): JID;
  export function escapeLocal(s: string): string;
  export function unescapeLocal(s: string): string;
  export function detectEscape(s: string): boolean;
}
