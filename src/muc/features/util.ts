// Small helpers shared by the feature files: typed access to the hook bus and config-form field plumbing.
import type { Hooks } from '../hooks.js';
import type { MucConfig } from '../config.js';
import type { RoomArchive } from '../archive.js';
import type { Logger } from '../../log.js';
import type { MucEvents, RoomIqRoutes, ConfigSubmittedEvent } from '../room.js';
import { asBool, boolValue, type FormField } from '../forms.js';
import type { MucMamHandler } from './mam.js';
import type { AvatarService } from '../../avatars/service.js';

export interface FeatureContext {
  hooks: Hooks<MucEvents>;
  iq: RoomIqRoutes;
  config: MucConfig;
  archive: RoomArchive;
  log: Logger;
  mam?: MucMamHandler;
  /** Computed and provided avatars, when the avatars module is wired. */
  avatars?: AvatarService;
  /** Whether a real bare JID is an anonymous login (livechat's viewers without an account). */
  isAnonymous: (bareJid: string) => boolean;
}

export function boolField(name: string, label: string, value: boolean): FormField {
  return { var: name, type: 'boolean', label, values: [boolValue(value)] };
}

/** Applies a submitted boolean field; adds 104 when it changed. */
export function submitBool(ev: ConfigSubmittedEvent, name: string, key: string): boolean {
  const v = asBool(ev.fields.get(name));
  if (v === undefined || v === ev.room.config[key]) return false;
  ev.room.config[key] = v;
  ev.codes.add('104');
  return true;
}

/** Applies a submitted single-value field; `parse` returns undefined to ignore a bad value. */
export function submitValue<T>(
  ev: ConfigSubmittedEvent,
  name: string,
  key: string,
  parse: (s: string) => T | undefined,
): boolean {
  const raw = ev.fields.get(name);
  if (!raw) return false;
  const v = parse(raw[0] ?? '');
  if (v === undefined || v === ev.room.config[key]) return false;
  ev.room.config[key] = v;
  ev.codes.add('104');
  return true;
}
