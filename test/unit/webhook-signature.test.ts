import { signPayload, verifySignature } from '../../src/webhook-signature';

const secret = 'whsec_test';
const body = JSON.stringify({ id: 'ntc_1', type: 'refund.settled' });
const now = 1_790_000_000;

describe('webhook signatures', () => {
  it('accepts a good signature', () => {
    expect(verifySignature(secret, signPayload(secret, body, now), body, now)).toEqual({ ok: true });
  });

  it('refuses a signature made with another secret, or over another body', () => {
    expect(verifySignature(secret, signPayload('other', body, now), body, now)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifySignature(secret, signPayload(secret, body, now), `${body} `, now)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('refuses a stale or future timestamp beyond five minutes', () => {
    expect(verifySignature(secret, signPayload(secret, body, now - 301), body, now)).toEqual({ ok: false, reason: 'stale' });
    expect(verifySignature(secret, signPayload(secret, body, now + 301), body, now)).toEqual({ ok: false, reason: 'stale' });
    expect(verifySignature(secret, signPayload(secret, body, now - 299), body, now)).toEqual({ ok: true });
  });

  it('refuses missing and malformed headers', () => {
    expect(verifySignature(secret, undefined, body, now)).toEqual({ ok: false, reason: 'missing' });
    expect(verifySignature(secret, 'v1=abc', body, now)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifySignature(secret, `t=${now},v1=zz`, body, now)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('signs the timestamp too: moving it breaks the signature', () => {
    const header = signPayload(secret, body, now);
    const moved = header.replace(`t=${now}`, `t=${now + 10}`);
    expect(verifySignature(secret, moved, body, now)).toEqual({ ok: false, reason: 'mismatch' });
  });
});
