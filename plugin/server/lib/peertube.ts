// The PeerTube API this plugin is written against (types from @peertube/peertube-types, a dev dependency only).
import type { RegisterServerOptions } from '@peertube/peertube-types';

export type PeerTubeOptions = RegisterServerOptions;
