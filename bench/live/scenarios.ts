// Scenarios as lists of phases. Each phase has a label for the report and a deadline so that no run can hang.

export type ScenarioName =
  'live' | 'join-storm' | 'warm-storm' | 'join-10ps' | 'steady-chat' | 'nick-wave' | 'scale' | 'storm' | '10k';
export const SCENARIOS: ScenarioName[] = [
  'live',
  'join-storm',
  'warm-storm',
  'join-10ps',
  'steady-chat',
  'nick-wave',
  'scale',
  'storm',
  '10k',
];

export interface PlanOptions {
  users: number;
  chatRate: number; // room-wide messages per second
  chatSeconds: number;
  joinRate: number; // viewers per second for join-10ps (and scale steps)
  nickWindowSeconds: number;
  senders: number; // how many viewers take turns to talk
  scaleSteps: number[]; // occupant counts for the scale scenario
}

export type PlannedPhase =
  | { label: string; kind: 'join'; from: number; to: number; ratePerSec: number }
  | { label: string; kind: 'chat'; ratePerSec: number; durationMs: number; senders: number }
  | { label: string; kind: 'nick'; windowMs: number }
  | { label: string; kind: 'leave' };

export function plan(name: ScenarioName, o: PlanOptions): PlannedPhase[] {
  const storm: PlannedPhase = { label: 'join storm', kind: 'join', from: 0, to: o.users, ratePerSec: 0 };
  const chat: PlannedPhase = {
    label: `chat ${o.chatRate} msg/s`,
    kind: 'chat',
    ratePerSec: o.chatRate,
    durationMs: o.chatSeconds * 1000,
    senders: o.senders,
  };
  const nick: PlannedPhase = { label: 'nick wave', kind: 'nick', windowMs: o.nickWindowSeconds * 1000 };
  const leave: PlannedPhase = { label: 'leave', kind: 'leave' };
  switch (name) {
    case 'live':
      return [storm, chat, nick, leave];
    case 'join-storm':
      return [storm, leave];
    case 'warm-storm':
      // The same storm twice on one server: the first pays V8's compilation of every path a join takes (a freshly
      // started server's first storm); the second is what a server that has served before sees.
      return [
        { ...storm, label: 'first storm (cold server)' },
        { ...leave, label: 'first leave' },
        { ...storm, from: o.users, to: 2 * o.users },
        leave,
      ];
    case 'join-10ps':
      return [{ label: `join ${o.joinRate}/s`, kind: 'join', from: 0, to: o.users, ratePerSec: o.joinRate }, leave];
    case 'steady-chat':
      return [storm, chat, leave];
    case 'nick-wave':
      return [storm, nick, leave];
    case 'storm': // presence storms: by default on ours with 'all' presences and with the default (see live.ts);
      // arrivals paced at --join-rate so that the kernel's accept queue, not the room, is never what drops viewers
      return [{ ...storm, ratePerSec: o.joinRate }, nick, leave];
    case '10k':
      // Everyone arrives at --join-rate, then the room chats: each message must reach all of them.
      return [
        { label: `join ${o.joinRate}/s`, kind: 'join', from: 0, to: o.users, ratePerSec: o.joinRate },
        { ...chat, label: `chat at ${o.users}` } as PlannedPhase,
        leave,
      ];
    case 'scale': {
      const out: PlannedPhase[] = [];
      let from = 0;
      for (const step of o.scaleSteps) {
        if (step <= from) continue;
        out.push({ label: `join to ${step}`, kind: 'join', from, to: step, ratePerSec: o.joinRate });
        out.push({ ...chat, label: `chat at ${step}` } as PlannedPhase);
        from = step;
      }
      out.push(leave);
      return out;
    }
  }
}
