/**
 * Account numbers a person gives for a reroute or a correction travel to the refund's workflow
 * sealed: AES-256-GCM under DESTINATION_SEAL_KEY, opened only by the activity that writes the
 * payout down. Workflow history (and so the Temporal UI, and every replay file) never holds the
 * number nor the holder's name; the workflow sees the last four digits and the name masked. The API seals, the worker opens: both need the
 * same key. A tampered or foreign box does not open.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { maskName } from './masking';
import type { SealedBankAccount } from '../workflows/messages';

const VERSION = 'v1';

export interface BankAccount {
  account: string;
  accountName: string;
}

/** What a person gives: an account for our bank transfer, or a card WeChat Pay pays itself (with its bank). */
export type BankAccountOrder = BankAccount & ({ type: 'bank_transfer' } | { type: 'wechat_bank_card'; bankType: string });

export interface DestinationSeal {
  seal(destination: BankAccountOrder): SealedBankAccount;
  open(sealed: SealedBankAccount): BankAccount;
}

/** `key`: 32 bytes, base64; or any passphrase in development (hashed to 32 bytes). */
export function destinationSeal(key: string): DestinationSeal {
  const secret = /^[A-Za-z0-9+/]{43}=$/.test(key) ? Buffer.from(key, 'base64') : createHash('sha256').update(key).digest();
  return {
    seal(destination) {
      const { account, accountName } = destination;
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', secret, iv);
      const body = Buffer.concat([cipher.update(JSON.stringify({ account, accountName }), 'utf8'), cipher.final()]);
      const sealed = [VERSION, iv, body, cipher.getAuthTag()].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
      const last4 = account.replace(/\D/g, '').slice(-4);
      const holder = maskName(accountName) ?? '*';
      return destination.type === 'wechat_bank_card' ? { type: destination.type, sealed, last4, holder, bankType: destination.bankType } : { type: 'bank_transfer', sealed, last4, holder };
    },
    open({ sealed }) {
      const [version, iv, body, tag] = sealed.split('.');
      if (version !== VERSION || !iv || !body || !tag) throw new Error('not a sealed destination');
      const decipher = createDecipheriv('aes-256-gcm', secret, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      const plain = Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
      return JSON.parse(plain) as BankAccount;
    },
  };
}
