// How accounts on the main domain are checked. The standalone server stores SCRAM keys in the data folder;
// the PeerTube wrapper plugs its token check in through checkPassword.

export type ScramHash = 'sha-1' | 'sha-256';

/** RFC 5802 stored credentials: enough to verify a SCRAM proof, never the password. */
export interface ScramCredentials {
  salt: string; // base64
  iterations: number;
  storedKey: string; // base64
  serverKey: string; // base64
}

export interface AuthProvider {
  /** Verifies a plain password (SASL PLAIN). */
  checkPassword(username: string, password: string): Promise<boolean>;
  /** Stored SCRAM keys; without this method SCRAM is not offered (e.g. token-based login). */
  getScramCredentials?(username: string, hash: ScramHash): Promise<ScramCredentials | null>;
  /** Whether an account exists (for iq to a bare JID with no session). */
  userExists?(username: string): boolean;
}
