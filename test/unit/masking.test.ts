import { createLogger } from '../../src/logger';
import { maskAccount, maskEmail, maskForLog, maskName, maskText } from '../../src/masking';

describe('masking', () => {
  it('keeps only the last four digits of accounts and phones', () => {
    expect(maskAccount('6222020200112341234')).toBe('****1234');
    expect(maskAccount('6222 0202 0011 2341')).toBe('****2341');
    expect(maskAccount(null)).toBeNull();
  });

  it('hides e-mail addresses but for a hint', () => {
    expect(maskEmail('li.wei@example.com')).toBe('l***@e***.com');
  });

  it('scrubs account numbers and addresses out of free text but leaves dates alone', () => {
    const text = 'card 6222020200112341234 phone 13800138000 mail li.wei@example.com on 2026-11-22T10:00:00Z';
    const masked = maskText(text);
    expect(masked).not.toMatch(/62220202|138001|li\.wei/);
    expect(masked).toContain('****1234');
    expect(masked).toContain('2026-11-22T10:00:00Z');
  });

  it('masks sensitive fields by name, deep inside objects', () => {
    const masked = maskForLog({
      body: { payerAccount: '6222020200112341234', customer: { email: 'a.b@example.com', phone: '+86 138 0013 8000' } },
      headers: { authorization: 'Bearer dev-service' },
    }) as Record<string, Record<string, Record<string, unknown>>>;
    expect(masked.body!.payerAccount).toBe('****1234');
    expect(masked.body!.customer).toEqual({ email: 'a***@e***.com', phone: '****8000' });
    expect(masked.headers!.authorization).toBe('[redacted]');
  });

  it('never lets a full account number reach a log line', () => {
    const lines: string[] = [];
    const logger = createLogger({ write: (line) => lines.push(line) });
    logger.info('refund', { payerAccount: '6222020200112341234', note: 'customer gave 6217000010001234567' });
    expect(lines.join('\n')).not.toMatch(/6222020200112341234|6217000010001234567/);
    expect(JSON.parse(lines[0]!).payerAccount).toBe('****1234');
  });
});

describe('masking leaves identifiers alone', () => {
  it('does not mistake digits inside a request id or refund id for an account', () => {
    const text = 'request 27ecf111-4949-8886-1234-ef39f6b987a5 refund rf_01M82H33V6RZBQM5A81NJ8PSJN key 20261122103000123456x';
    expect(maskText(text)).toBe(text);
  });
});

describe('names in logs (issue #20)', () => {
  it('keeps a name’s first letter only: the customer’s, a bank account holder’s, a card holder’s', () => {
    expect(maskName('李伟')).toBe('李*');
    expect(maskName('Li Wei')).toBe('L*****');
    expect(maskName('')).toBeNull();
    const masked = maskForLog({
      customer: { name: 'Li Wei', email: 'li.wei@example.com', locale: 'en' },
      destination: { type: 'bank_transfer', account: '6217000010001234', accountName: '王小明' },
      redirectedTo: { bankType: 'ICBC_DEBIT', real_name: '张三' },
      error: { name: 'ProviderUnavailableError', message: 'WeChat Pay SYSTEM_ERROR' },
    });
    expect(JSON.stringify(masked)).not.toMatch(/Li Wei|王小明|张三/);
    expect(masked).toMatchObject({
      customer: { name: 'L*****', email: 'l***@e***.com', locale: 'en' },
      destination: { account: '****1234', accountName: '王**' },
      redirectedTo: { real_name: '张*' },
      // A name that is no person's stays readable.
      error: { name: 'ProviderUnavailableError' },
    });
  });
});
