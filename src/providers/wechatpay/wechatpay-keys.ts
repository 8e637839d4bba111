/**
 * The keys WeChat Pay signs its answers and notifications with, by the serial its `Wechatpay-Serial`
 * header names. A merchant is in one of three modes: the WeChat Pay public key (PUB_KEY_ID_…, given
 * to new merchants), platform certificates (平台证书, serial = the certificate's serial number), or
 * moving from the second to the first, when WeChat Pay signs with either for days and both must be
 * trusted. Platform certificates rotate: one we do not know yet is fetched from WeChat Pay's
 * certificate list (GET /v3/certificates) while the service runs, no restart. Each certificate there
 * is encrypted with the APIv3 key (AEAD_AES_256_GCM), which is what proves WeChat Pay made it.
 */
import { createDecipheriv, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { WechatPaySettings } from './wechatpay-settings';

/** How often an unknown serial may send us to WeChat Pay's certificate list: a forged header must not make us hammer it. */
const REFRESH_AT_MOST_EVERY_MS = 60_000;

/** One entry of GET /v3/certificates. */
interface ListedCertificate {
  serial_no: string;
  encrypt_certificate: { algorithm: string; nonce: string; associated_data?: string; ciphertext: string };
}

const keyrings = new WeakMap<WechatPaySettings, WechatPayKeys>();

/** The one keyring of a merchant's settings in this process, shared by its adapter and its notification route. */
export function wechatPayKeys(settings: WechatPaySettings): WechatPayKeys {
  let keys = keyrings.get(settings);
  if (!keys) keyrings.set(settings, (keys = new WechatPayKeys(settings)));
  return keys;
}

export class WechatPayKeys {
  private readonly keys = new Map<string, KeyObject>();
  /** Goes up whenever a key is added: a client built for an older set is rebuilt. */
  version = 0;
  private lastRefresh = 0;
  private refreshing: Promise<void> | null = null;
  private newestCertificate?: string;
  private newestSince = 0;

  constructor(private readonly settings: Pick<WechatPaySettings, 'publicKeyId' | 'publicKey' | 'platformCertificates' | 'apiV3Key'>) {
    if (settings.publicKeyId && settings.publicKey) this.keys.set(settings.publicKeyId, createPublicKey(settings.publicKey));
    for (const pem of settings.platformCertificates) this.addCertificate(pem);
  }

  /** The key a serial names, if we trust one by that serial. */
  get(serial: string): KeyObject | undefined {
    return this.keys.get(serial);
  }

  /** Every trusted key by serial, as the signing client wants them. */
  all(): Record<string, KeyObject> {
    return Object.fromEntries(this.keys);
  }

  /**
   * The serial sent as `Wechatpay-Serial` on every request: WeChat Pay signs its answer with the
   * key it names (so a merchant moving to the public key gets answers signed by it), and it names
   * the key that encrypted any sensitive field. The public key once there is one, else the newest
   * platform certificate.
   */
  get preferredSerial(): string {
    if (this.settings.publicKeyId && this.settings.publicKey) return this.settings.publicKeyId;
    return this.newestCertificate ?? [...this.keys.keys()][0]!;
  }

  /** The key that encrypts what only WeChat Pay may read (a card number): the one `preferredSerial` names. */
  get encryptionKey(): KeyObject {
    return this.keys.get(this.preferredSerial)!;
  }

  /** Trusts a platform certificate (PEM); false when it is not valid now. */
  addCertificate(pem: string): boolean {
    const certificate = new X509Certificate(pem);
    const now = Date.now();
    const from = Date.parse(certificate.validFrom);
    if (from > now || Date.parse(certificate.validTo) < now) return false;
    const serial = certificate.serialNumber.toUpperCase();
    if (!this.keys.has(serial)) {
      this.keys.set(serial, certificate.publicKey);
      this.version += 1;
    }
    if (from >= this.newestSince) [this.newestCertificate, this.newestSince] = [serial, from];
    return true;
  }

  /**
   * An answer or notice named a serial we do not trust: in platform-certificate mode, WeChat Pay's
   * list may hold it (a rotation). At most once a minute; the answer that named it is not believed
   * either way, and the next try (or WeChat Pay's next delivery) is checked with what we have then.
   */
  refreshSoon(download: () => Promise<string>): void {
    if (this.settings.platformCertificates.length === 0 || this.refreshing || Date.now() - this.lastRefresh < REFRESH_AT_MOST_EVERY_MS) return;
    this.lastRefresh = Date.now();
    this.refreshing = this.refresh(download)
      .catch(() => undefined) // asked again at the next unknown serial, a minute on
      .finally(() => (this.refreshing = null));
  }

  /** Takes in WeChat Pay's certificate list (the body of GET /v3/certificates): each certificate decrypted with the APIv3 key. */
  async refresh(download: () => Promise<string>): Promise<void> {
    const listing = JSON.parse(await download()) as { data?: ListedCertificate[] };
    for (const entry of listing.data ?? []) {
      const sealed = entry.encrypt_certificate;
      if (sealed?.algorithm !== 'AEAD_AES_256_GCM') continue;
      this.addCertificate(openAeadAes256Gcm(sealed.ciphertext, this.settings.apiV3Key, sealed.nonce, sealed.associated_data ?? ''));
    }
  }
}

/**
 * AEAD_AES_256_GCM as WeChat Pay uses it (notifications' `resource`, the certificate list): the
 * base64 ciphertext ends with the 16-byte tag; opening it proves it was made with the APIv3 key.
 */
export function openAeadAes256Gcm(ciphertext: string, apiV3Key: string, nonce: string, associatedData: string): string {
  const bytes = Buffer.from(ciphertext, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', Buffer.from(apiV3Key), Buffer.from(nonce));
  decipher.setAAD(Buffer.from(associatedData));
  decipher.setAuthTag(bytes.subarray(bytes.length - 16));
  return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - 16)), decipher.final()]).toString('utf8');
}
