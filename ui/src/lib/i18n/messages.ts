// The shape every catalogue shares, derived from the English one.

import { en } from './en';

export type MessageKey = keyof typeof en;

/** A complete catalogue: every key of the English one, and no other. */
export type Messages = { readonly [K in MessageKey]: string };

/** The `{name}` placeholders of a message template, as a union of names. */
type Placeholders<S extends string> = S extends `${string}{${infer Name}}${infer Rest}`
  ? Name | Placeholders<Rest>
  : never;

/** The parameter names the English message `K` uses. */
export type ParamNames<K extends MessageKey> = Placeholders<(typeof en)[K]>;

export type ParamValue = string | number;

/**
 * The rest-arguments `t(key, ...)` takes: nothing for a message without placeholders, else an
 * object with every placeholder. Checked against the English template, which the zh-CN one must
 * match (the catalogue test enforces that).
 */
export type MessageArgs<K extends MessageKey> = [ParamNames<K>] extends [never]
  ? []
  : [params: Record<ParamNames<K>, ParamValue>];
