/**
 * The kinds of setting provider modules read from the environment, as zod schemas whose complaints
 * read after the variable's name ("WECHATPAY_MCHID must be set (the merchant id)"): required text,
 * URLs, RSA keys in any form the providers' tools hand out, PEM certificates. An empty variable is
 * an unset one.
 */
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { z } from 'zod';

/** `''` is unset, as a shell or a compose file leaves it. */
const unsetIfEmpty = (value: unknown) => (value === '' ? undefined : value);

/** Text that must be given: `what` says what it is. */
export function requiredText(what: string) {
  return z.preprocess(unsetIfEmpty, z.string({ message: `must be set (${what})` }));
}

export function optionalText() {
  return z.preprocess(unsetIfEmpty, z.string().optional());
}

/** An http(s) URL; with `what`, required. */
export function urlSetting(what: string) {
  return z.preprocess(unsetIfEmpty, z.url({ protocol: /^https?$/, message: `must be ${what}, an http(s) URL` }));
}

/** A private key given as PEM or bare base64, PKCS#8 or PKCS#1 (Alipay's key tool gives PKCS#1 as bare base64), kept as PKCS#8 PEM. */
export function privateKeySetting(name: string) {
  return requiredText(`PEM, or ${name}_FILE naming a PEM file`).transform((value, context) => {
    const pem = pkcs8PemOf(value);
    if (pem) return pem;
    context.addIssue({ code: 'custom', message: `must be an RSA private key, PEM (-----BEGIN …) or base64, PKCS#8 or PKCS#1; for a path use ${name}_FILE` });
    return z.NEVER;
  });
}

/** A public key as PEM; a bare base64 key (as the providers' consoles show them) is wrapped into one. */
export function publicKeySetting(name: string) {
  return requiredText(`PEM, or ${name}_FILE naming a PEM file`).transform((given, context) => {
    const value = given.trim();
    if (value.includes('-----BEGIN ')) return value;
    if (/^[A-Za-z0-9+/=\s]+$/.test(value)) return `-----BEGIN PUBLIC KEY-----\n${value.replace(/\s+/g, '').replace(/.{64}/g, '$&\n')}\n-----END PUBLIC KEY-----`;
    context.addIssue({ code: 'custom', message: `must be PEM (-----BEGIN …) or base64; for a path use ${name}_FILE` });
    return z.NEVER;
  });
}

/** One or more PEM certificates, each of which must parse. */
export function certificatesSetting(name: string) {
  return requiredText(`PEM certificates, or ${name}_FILE naming a file of them`).transform((value, context) => {
    const pems = value.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    if (pems.length === 0) {
      context.addIssue({ code: 'custom', message: `must hold PEM certificates (-----BEGIN CERTIFICATE-----); for a path use ${name}_FILE` });
      return z.NEVER;
    }
    for (const pem of pems) {
      try {
        new X509Certificate(pem);
      } catch {
        context.addIssue({ code: 'custom', message: 'holds a certificate that does not parse' });
        return z.NEVER;
      }
    }
    return pems;
  });
}

/** A public key given as PEM or bare base64 (SPKI), as SPKI PEM; undefined when it is none. */
export function publicKeyPemOf(given: string): string | undefined {
  const value = given.trim();
  try {
    const key = value.includes('-----BEGIN ') ? createPublicKey(value) : createPublicKey({ key: Buffer.from(value.replace(/\s+/g, ''), 'base64'), format: 'der', type: 'spki' });
    return key.export({ type: 'spki', format: 'pem' }).toString();
  } catch {
    return undefined;
  }
}

/** A private key given as PEM or bare base64, PKCS#8 or PKCS#1, as PKCS#8 PEM; undefined when it is none of these. */
export function pkcs8PemOf(given: string): string | undefined {
  const value = given.trim();
  const forms: Parameters<typeof createPrivateKey>[0][] = value.includes('-----BEGIN ')
    ? [value]
    : /^[A-Za-z0-9+/=\s]+$/.test(value)
      ? (['pkcs8', 'pkcs1'] as const).map((type) => ({ key: Buffer.from(value.replace(/\s+/g, ''), 'base64'), format: 'der' as const, type }))
      : [];
  for (const form of forms) {
    try {
      return createPrivateKey(form).export({ type: 'pkcs8', format: 'pem' }).toString();
    } catch {
      // not this form
    }
  }
  return undefined;
}
