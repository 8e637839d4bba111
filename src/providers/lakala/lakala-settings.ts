/**
 * Lakala's settings, read from the environment by their own schema (issue #21): the app and the
 * serial of our certificate, our private key, Lakala's platform certificate (which verifies its
 * answers), the merchant and default terminal, the gateway, and the address its risk control
 * wants with each refund. The key and certificate are parsed here, once.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { z } from 'zod';

export interface LakalaSettings {
  appId: string;
  serialNo: string;
  privateKey: KeyObject;
  lakalaCertificate: X509Certificate;
  merchantNo: string;
  /** The terminal a refund goes under when its payment names none. */
  termNo: string;
  gateway: string;
  requestIp: string;
}

export const LAKALA_ENV = z
  .object({
    LAKALA_APP_ID: z.string({ message: 'must be set (the app id Lakala gave, OP…)' }).regex(/^[A-Za-z0-9]{4,32}$/, 'must be the app id Lakala gave'),
    LAKALA_SERIAL_NO: z.string({ message: 'must be set (the serial number of the certificate Lakala issued for our key)' }).regex(/^[0-9A-Fa-f]{4,64}$/, 'must be the certificate’s serial number (hex)'),
    LAKALA_PRIVATE_KEY: z.string({ message: 'must be set (our private key, PEM)' }),
    LAKALA_CERTIFICATE: z.string({ message: 'must be set (Lakala’s platform certificate, PEM)' }),
    LAKALA_MERCHANT_NO: z.string({ message: 'must be set (the merchant number Lakala gave)' }).regex(/^[0-9A-Za-z]{8,32}$/, 'must be the merchant number Lakala gave'),
    LAKALA_TERM_NO: z.string({ message: 'must be set (the terminal refunds go under when a payment names none)' }).regex(/^[0-9A-Za-z]{1,32}$/, 'must be a terminal number'),
    LAKALA_GATEWAY: z.url({ protocol: /^https?$/, message: 'must be the gateway, an http(s) URL' }).default('https://s2.lakala.com'),
    LAKALA_REQUEST_IP: z.ipv4({ message: 'must be the IPv4 address Lakala’s risk control knows this service by' }),
  })
  .transform((env, context): LakalaSettings => {
    let privateKey: KeyObject;
    let lakalaCertificate: X509Certificate;
    try {
      privateKey = createPrivateKey(env.LAKALA_PRIVATE_KEY);
    } catch {
      context.addIssue({ code: 'custom', path: ['LAKALA_PRIVATE_KEY'], message: 'must be an RSA private key, PEM; for a path use LAKALA_PRIVATE_KEY_FILE' });
      return z.NEVER;
    }
    try {
      lakalaCertificate = new X509Certificate(env.LAKALA_CERTIFICATE);
    } catch {
      context.addIssue({ code: 'custom', path: ['LAKALA_CERTIFICATE'], message: 'must be Lakala’s platform certificate, PEM; for a path use LAKALA_CERTIFICATE_FILE' });
      return z.NEVER;
    }
    return {
      appId: env.LAKALA_APP_ID,
      serialNo: env.LAKALA_SERIAL_NO,
      privateKey,
      lakalaCertificate,
      merchantNo: env.LAKALA_MERCHANT_NO,
      termNo: env.LAKALA_TERM_NO,
      gateway: env.LAKALA_GATEWAY.replace(/\/+$/, ''),
      requestIp: env.LAKALA_REQUEST_IP,
    };
  });
