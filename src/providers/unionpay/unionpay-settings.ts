/**
 * UnionPay ACP's settings, read from the environment by their own schema (issue #21): the merchant
 * code, its signing keystore and password, UnionPay's root and intermediate certificates, the
 * gateway, and where UnionPay posts its notices (backUrl). The keystore is opened and the
 * certificates parsed here, once, so a wrong password or a broken certificate stops the start.
 */
import { X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { openKeystore, trustOf, type SigningKey, type UnionPayTrust } from './unionpay-certificates';

export interface UnionPaySettings {
  merId: string;
  signer: SigningKey;
  trust: UnionPayTrust;
  /** The gateway's base: production https://gateway.95516.com, or UnionPay's test environment. */
  gateway: string;
  /** Where UnionPay posts the results of refunds and voids: this API's /v1/webhooks/unionpay as the internet reaches it. */
  backUrl: string;
  /** The product the merchant's sales went through (bizType): 000201 gateway payments, by default. */
  bizType: string;
  /** channelType: 07 internet, 08 mobile. */
  channelType: string;
}

const pem = (what: string) =>
  z
    .string({ message: `must be set (${what}, PEM)` })
    .refine((value) => {
      try {
        new X509Certificate(value);
        return true;
      } catch {
        return false;
      }
    }, `must be ${what} as a PEM certificate (-----BEGIN CERTIFICATE-----); for a path use the _FILE form`);

const url = (what: string) => z.url({ protocol: /^https?$/, message: `must be ${what}, an http(s) URL` });

export const UNIONPAY_ENV = z
  .object({
    UNIONPAY_MER_ID: z.string({ message: 'must be set (the merchant code UnionPay gave, 15 characters)' }).regex(/^[0-9A-Za-z]{15}$/, 'must be the 15-character merchant code'),
    UNIONPAY_SIGN_CERT: z.string({ message: 'must be set: the signing keystore (.pfx) as base64, or UNIONPAY_SIGN_CERT_FILE naming the .pfx' }).regex(/^[A-Za-z0-9+/=\s]+$/, 'must be base64 of the .pfx keystore; for a path use UNIONPAY_SIGN_CERT_FILE'),
    UNIONPAY_SIGN_CERT_PASSWORD: z.string({ message: 'must be set (the keystore’s password)' }),
    UNIONPAY_ROOT_CERT: pem('UnionPay’s root certificate'),
    UNIONPAY_MIDDLE_CERT: pem('UnionPay’s intermediate certificate'),
    UNIONPAY_GATEWAY: url('the gateway').default('https://gateway.95516.com'),
    UNIONPAY_BACK_URL: url('where UnionPay posts notices: https://<this API>/v1/webhooks/unionpay'),
    UNIONPAY_BIZ_TYPE: z.string().regex(/^\d{6}$/, 'must be six digits (000201 for gateway payments)').default('000201'),
    UNIONPAY_CHANNEL_TYPE: z.enum(['07', '08']).default('07'),
    /** UnionPay's test environment signs with certificates of another owner: take them only when told to. */
    UNIONPAY_TEST_CERTIFICATES: z.enum(['true', 'false']).default('false'),
  })
  .transform((env, context): UnionPaySettings => {
    let signer: SigningKey;
    try {
      signer = openKeystore(env.UNIONPAY_SIGN_CERT.replace(/\s+/g, ''), env.UNIONPAY_SIGN_CERT_PASSWORD);
    } catch (error) {
      context.addIssue({ code: 'custom', path: ['UNIONPAY_SIGN_CERT'], message: (error as Error).message });
      return z.NEVER;
    }
    return {
      merId: env.UNIONPAY_MER_ID,
      signer,
      trust: trustOf(env.UNIONPAY_ROOT_CERT, env.UNIONPAY_MIDDLE_CERT, env.UNIONPAY_TEST_CERTIFICATES === 'true'),
      gateway: env.UNIONPAY_GATEWAY.replace(/\/+$/, ''),
      backUrl: env.UNIONPAY_BACK_URL,
      bizType: env.UNIONPAY_BIZ_TYPE,
      channelType: env.UNIONPAY_CHANNEL_TYPE,
    };
  });
