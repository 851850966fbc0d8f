// Moderation rules come from streamers, so they run on RE2 semantics (re2js): matching time is linear in the
// message length whatever the pattern, so no rule can stall the server (ReDoS). livechat writes its rules for
// JavaScript's RegExp; the few spellings RE2 lacks are translated, and a pattern RE2 cannot run (look-around,
// back-references) is refused with its error so the caller can report it.
import { RE2JS } from 're2js';

export interface SafeRegExp {
  test(s: string): boolean;
  source: string;
}

/** JavaScript's long Unicode property names that RE2 only knows by their short name. */
const LONG_NAMES: Record<string, string> = {
  Letter: 'L',
  Lowercase_Letter: 'Ll',
  Uppercase_Letter: 'Lu',
  Titlecase_Letter: 'Lt',
  Modifier_Letter: 'Lm',
  Other_Letter: 'Lo',
  Mark: 'M',
  Nonspacing_Mark: 'Mn',
  Spacing_Mark: 'Mc',
  Enclosing_Mark: 'Me',
  Number: 'N',
  Decimal_Number: 'Nd',
  Letter_Number: 'Nl',
  Other_Number: 'No',
  Punctuation: 'P',
  Connector_Punctuation: 'Pc',
  Dash_Punctuation: 'Pd',
  Open_Punctuation: 'Ps',
  Close_Punctuation: 'Pe',
  Initial_Punctuation: 'Pi',
  Final_Punctuation: 'Pf',
  Other_Punctuation: 'Po',
  Symbol: 'S',
  Math_Symbol: 'Sm',
  Currency_Symbol: 'Sc',
  Modifier_Symbol: 'Sk',
  Other_Symbol: 'So',
  Separator: 'Z',
  Space_Separator: 'Zs',
  Line_Separator: 'Zl',
  Paragraph_Separator: 'Zp',
  Other: 'C',
  Control: 'Cc',
  Format: 'Cf',
  Surrogate: 'Cs',
  Private_Use: 'Co',
  Unassigned: 'Cn',
};

function translate(source: string): string {
  return source.replace(/\\([pP])\{(?:(?:General_Category|gc)=)?([A-Za-z_]+)\}/g, (m, p: string, name: string) => {
    const short = LONG_NAMES[name];
    return short ? `\\${p}{${short}}` : m;
  });
}

/**
 * Compiles a rule. Modifiers as JavaScript spells them: i (the default when none are given), s, m; u and g are
 * accepted and mean nothing here (RE2 always works on code points; a test is a search). Throws on a bad pattern.
 */
export function compileSafe(source: string, modifiers = 'i'): SafeRegExp {
  let flags = 0;
  for (const m of modifiers) {
    if (m === 'i') flags |= RE2JS.CASE_INSENSITIVE;
    else if (m === 's') flags |= RE2JS.DOTALL;
    else if (m === 'm') flags |= RE2JS.MULTILINE;
    else if (m !== 'u' && m !== 'g') throw new Error(`unsupported modifier "${m}"`);
  }
  const re = RE2JS.compile(translate(source), flags);
  return { source, test: (s: string) => re.test(s) };
}
