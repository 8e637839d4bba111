/**
 * Alipay's settings, read from the environment by their own schema: the app, its private key, and
 * Alipay's keys in one of its two modes — Alipay's public key (公钥模式), or public-key certificates
 * (公钥证书模式: the app's certificate, Alipay's, and Alipay's root chain), which Alipay requires for
 * some products and merchants — and the gateway.
 */
import { z } from 'zod';
import { certificatesSetting, optionalText, privateKeySetting, publicKeySetting, requiredText, urlSetting } from '../settings-fields';

export interface AlipaySettings {
  appId: string;
  /** The app's private key (PKCS#8 PEM, whatever form it was given in): signs our requests (RSA2). */
  privateKey: string;
  /** Alipay's public key (PEM): verifies Alipay's answers and notifications. Absent in certificate mode. */
  alipayPublicKey?: string;
  /** Certificate mode: the app's public-key certificate, Alipay's, and Alipay's root certificates (PEM). */
  certificates?: { app: string; alipay: string; root: string };
  /** Alipay's gateway: production, or the sandbox gateway for a sandbox app. */
  gateway: string;
  /** The app acting for a merchant who authorised it (第三方应用授权): that merchant's token. */
  appAuthToken?: string;
}

const CERTIFICATES = ['ALIPAY_APP_CERT', 'ALIPAY_PUBLIC_CERT', 'ALIPAY_ROOT_CERT'] as const;

export const ALIPAY_ENV = z
  .object({
    ALIPAY_APP_ID: requiredText('the app id'),
    ALIPAY_PRIVATE_KEY: privateKeySetting('ALIPAY_PRIVATE_KEY'),
    ALIPAY_PUBLIC_KEY: optionalText(),
    ALIPAY_APP_CERT: optionalText(),
    ALIPAY_PUBLIC_CERT: optionalText(),
    ALIPAY_ROOT_CERT: optionalText(),
    ALIPAY_GATEWAY: urlSetting('Alipay’s gateway').default('https://openapi.alipay.com/gateway.do'),
  })
  .transform((env, context): AlipaySettings => {
    const base = { appId: env.ALIPAY_APP_ID, privateKey: env.ALIPAY_PRIVATE_KEY, gateway: env.ALIPAY_GATEWAY };
    const fail = (path: string[], message: string) => {
      context.addIssue({ code: 'custom', path, message });
      return z.NEVER;
    };
    if (!CERTIFICATES.some((name) => env[name])) {
      const key = publicKeySetting('ALIPAY_PUBLIC_KEY').safeParse(env.ALIPAY_PUBLIC_KEY);
      return key.success ? { ...base, alipayPublicKey: key.data } : fail(['ALIPAY_PUBLIC_KEY'], key.error.issues[0]!.message);
    }
    if (env.ALIPAY_PUBLIC_KEY) return fail([], 'ALIPAY_PUBLIC_KEY and the certificates (ALIPAY_APP_CERT, …) are two modes: give one');
    const pems: string[] = [];
    for (const name of CERTIFICATES) {
      const parsed = certificatesSetting(name).safeParse(env[name]);
      if (!parsed.success) return fail([name], parsed.error.issues[0]!.message);
      pems.push(parsed.data.join('\n'));
    }
    const [app, alipay, root] = pems as [string, string, string];
    return { ...base, certificates: { app, alipay, root } };
  });
