// The one table of conformance waivers. The transcripts in ../shared/scansion/ stay untouched;
// where one expects something Prosody-specific, the exception is listed here with its reason.
//
// Three scopes, narrowest first (prefer the narrowest that works):
// - `element`: expected elements in namespace `ns` (optionally only named `name`) are disregarded
//   wherever a received stanza is matched in `file` ('*' = every file). Used for decorations Prosody
//   adds from unrelated modules.
// - `step`: the `receives:` step at `line` of `file` may mismatch: the next stanza is taken as its
//   answer whatever it is, and the rest of the file must pass. Used for one Prosody-specific answer.
// - `file`: the whole file is run but its outcome does not fail CI. Last resort.
// `targets` limits a waiver to one server ('ours' = this project, 'prosody' = Debian's Prosody,
// used to validate the tool itself; entries for Prosody record version differences from the trunk
// that wrote the transcripts, not behaviour we copy).
//
// Rule from issue 9: nothing that XEP-0045, XEP-0313 or RFC 6120/6121 require may be waived here.

export type Target = 'ours' | 'prosody';

interface Base {
  file: string;
  reason: string;
  targets?: Target[];
}
export interface ElementWaiver extends Base {
  scope: 'element';
  ns: string;
  name?: string;
}
export interface StepWaiver extends Base {
  scope: 'step';
  line: number;
}
export interface FileWaiver extends Base {
  scope: 'file';
}
export type Waiver = ElementWaiver | StepWaiver | FileWaiver;

export const WAIVERS: Waiver[] = [
  // --- Prosody-specific expectations (issue 9 names these kinds); apply to our server.
  {
    scope: 'element',
    file: 'muc_create_destroy.scs',
    ns: 'vcard-temp:x:update',
    targets: ['ours'],
    reason:
      "Prosody's mod_vcard_legacy adds an XEP-0153 <x xmlns='vcard-temp:x:update'> to every presence a user sends, " +
      'also into rooms; a server decoration, not MUC behaviour (XEP-0153 is optional)',
  },
  {
    scope: 'step',
    file: 'muc_create_destroy.scs',
    line: 296,
    targets: ['ours'],
    reason:
      "room destroyed through Prosody's own ad-hoc node http://prosody.im/protocol/muc#destroy " +
      '(owners destroy rooms with XEP-0045 §10.9, tested earlier in this file)',
  },
  {
    scope: 'step',
    file: 'muc_create_destroy.scs',
    line: 307,
    targets: ['ours'],
    reason: "answer of Prosody's ad-hoc node http://prosody.im/protocol/muc#destroy, with Prosody's note text",
  },
  {
    scope: 'element',
    file: 'issue978.scs',
    ns: 'jabber:client',
    name: 'status',
    targets: ['ours'],
    reason:
      'Prosody\'s human-readable <status> text "Kicked: service unavailable: Test error" ' +
      '(the 333 status code and the item are still checked)',
  },
  {
    scope: 'element',
    file: 'muc_nickname_robotface.scs',
    ns: 'urn:ietf:params:xml:ns:xmpp-stanzas',
    name: 'text',
    targets: ['ours'],
    reason:
      'Prosody\'s error <text> "Nickname must pass strict validation" (the error type and condition are still checked)',
  },
  ...['muc_register.scs', 'muc_show_offline.scs'].flatMap((file): Waiver[] => {
    const [get, set] = file === 'muc_register.scs' ? [451, 472] : [463, 484];
    const why =
      'an unaffiliated user may not register with the room: XEP-0045 §7.10 says the room MUST return ' +
      "<not-allowed/>, which we do; Prosody answers <registration-required type='auth'/> " +
      '(test/muc/register.test.ts checks our answer)';
    return [
      { scope: 'step', file, line: get, targets: ['ours'], reason: `registration form request: ${why}` },
      { scope: 'step', file, line: set, targets: ['ours'], reason: `registration form submission: ${why}` },
    ];
  }),

  // --- Prosody 0.12 (Debian) vs the Prosody trunk that wrote the transcripts: tool validation only.
  {
    scope: 'step',
    file: 'muc_outcast_reason.scs',
    line: 59,
    targets: ['prosody'],
    reason: 'Prosody 0.12 leaves the ban <reason> out of the outcast list (trunk returns it, as XEP-0045 §9.2 shows)',
  },
];

export interface FileWaivers {
  file?: FileWaiver;
  steps: StepWaiver[];
  elements: ElementWaiver[];
}

/** The waivers that apply to one file on one target. */
export function waiversFor(file: string, target: Target, table: Waiver[] = WAIVERS): FileWaivers {
  const applies = (w: Waiver) => (w.file === file || w.file === '*') && (!w.targets || w.targets.includes(target));
  const mine = table.filter(applies);
  return {
    file: mine.find((w): w is FileWaiver => w.scope === 'file'),
    steps: mine.filter((w): w is StepWaiver => w.scope === 'step'),
    elements: mine.filter((w): w is ElementWaiver => w.scope === 'element'),
  };
}

/** A predicate for match.ts: true for expected elements an element waiver says to disregard. */
export function elementFilter(elements: ElementWaiver[]): ((e: { name: string }, ns: string) => boolean) | undefined {
  if (!elements.length) return undefined;
  return (e, ns) => elements.some((w) => w.ns === ns && (!w.name || w.name === e.name.replace(/^.*:/, '')));
}

/**
 * Transcripts whose feature this server does not have yet. They are not waived: they are skipped and reported as
 * NOT BUILT (counted as skipped, never as passed), and each entry goes when its feature lands.
 * `SCANSION_NOT_BUILT=run` runs them anyway, to see how far they get.
 */
export const NOT_BUILT: Record<string, string> = {};
