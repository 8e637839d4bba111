/**
 * UnionPay's keys. Ours: the merchant's signing certificate as UnionPay issues it, a PKCS#12
 * keystore (.pfx) with a password, which Node's crypto cannot open — node-forge (maintained, pure
 * JavaScript, no native build) opens it; the key is then used through Node's crypto. Theirs: each
 * answer and notice carries UnionPay's signing certificate (signPubKeyCert), believed only when it
 * chains to UnionPay's root through its intermediate (both configured, never taken from the
 * message), is within its validity, and names UnionPay (中国银联股份有限公司) as its owner — checked
 * with Node's X509Certificate.
 */
import { createPrivateKey, createSign, createVerify, X509Certificate, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { signedDigestOf } from './unionpay-protocol';

/** The owner UnionPay's signing certificates name in their CN (`…@…@中国银联股份有限公司@…`). */
export const UNIONPAY_OWNER = '中国银联股份有限公司';
/** The owner of the signing certificates in UnionPay's test environment, accepted only where asked for. */
export const UNIONPAY_TEST_OWNER = '00040000:SIGN';

export interface SigningKey {
  key: KeyObject;
  /** certId: the certificate's serial number in decimal, as UnionPay's SDK sends it. */
  certId: string;
}

/** The signing key and certificate in a PKCS#12 keystore (base64 of the .pfx) opened with its password. */
export function openKeystore(pfxBase64: string, password: string): SigningKey {
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(forge.util.decode64(pfxBase64)), false, password);
  } catch (error) {
    throw new Error(`the keystore does not open with this password (${(error as Error).message})`);
  }
  const bag = (type: string) => p12.getBags({ bagType: type })[type]?.[0];
  const keyBag = bag(forge.pki.oids.pkcs8ShroudedKeyBag!) ?? bag(forge.pki.oids.keyBag!);
  const certBag = bag(forge.pki.oids.certBag!);
  if (!keyBag?.key || !certBag?.cert) throw new Error('the keystore holds no private key with its certificate');
  const key = createPrivateKey(forge.pki.privateKeyToPem(keyBag.key));
  return { key, certId: BigInt(`0x${certBag.cert.serialNumber}`).toString(10) };
}

/** Signs a request's fields (5.1.0: RSA SHA-256 over the hex SHA-256 of the sorted fields); returns the fields with certId and signature. */
export function signFields(fields: Record<string, string>, signer: SigningKey): Record<string, string> {
  const withCert = { ...fields, certId: signer.certId };
  const signature = createSign('RSA-SHA256').update(signedDigestOf(withCert), 'utf8').sign(signer.key, 'base64');
  return { ...withCert, signature };
}

export interface UnionPayTrust {
  root: X509Certificate;
  middle: X509Certificate;
  /** Also take certificates of UnionPay's test environment (its joint-testing sandbox); never in production. */
  acceptTestOwner: boolean;
}

export function trustOf(rootPem: string, middlePem: string, acceptTestOwner: boolean): UnionPayTrust {
  return { root: new X509Certificate(rootPem), middle: new X509Certificate(middlePem), acceptTestOwner };
}

export type Verified = { ok: true } | { ok: false; reason: string };

/** A message from UnionPay: its certificate trusted (see above) and its signature over the fields verified with it. */
export function verifyFields(fields: Record<string, string>, trust: UnionPayTrust, now = new Date()): Verified {
  if (!fields.signature) return { ok: false, reason: 'unsigned' };
  if (!fields.signPubKeyCert) return { ok: false, reason: 'no signing certificate (signPubKeyCert)' };
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(fields.signPubKeyCert.replace(/\r\n/g, '\n'));
  } catch {
    return { ok: false, reason: 'the signing certificate does not parse' };
  }
  const trusted = trustedCertificate(certificate, trust, now);
  if (!trusted.ok) return trusted;
  let verified = false;
  try {
    verified = createVerify('RSA-SHA256').update(signedDigestOf(fields), 'utf8').verify(certificate.publicKey, fields.signature, 'base64');
  } catch {
    verified = false;
  }
  return verified ? { ok: true } : { ok: false, reason: 'signature does not verify' };
}

function trustedCertificate(certificate: X509Certificate, { root, middle, acceptTestOwner }: UnionPayTrust, now: Date): Verified {
  const chained = certificate.checkIssued(middle) && certificate.verify(middle.publicKey) && middle.checkIssued(root) && middle.verify(root.publicKey) && root.verify(root.publicKey);
  if (!chained) return { ok: false, reason: 'the signing certificate does not chain to UnionPay’s root' };
  for (const cert of [certificate, middle, root]) {
    if (now < new Date(cert.validFrom) || now > new Date(cert.validTo)) return { ok: false, reason: `a certificate of the chain is not valid now (${cert.subject.replace(/\n/g, ', ')})` };
  }
  const owner = ownerOf(certificate);
  if (owner !== UNIONPAY_OWNER && !(acceptTestOwner && owner === UNIONPAY_TEST_OWNER)) return { ok: false, reason: `the signing certificate is not UnionPay’s (its owner is ${owner ?? 'unnamed'})` };
  return { ok: true };
}

/** The owner in a UnionPay certificate's CN: its third `@`-separated part. */
function ownerOf(certificate: X509Certificate): string | undefined {
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(certificate.subject)?.[1];
  return cn?.split('@')[2];
}
