/** The console's words: which language a reader gets, how amounts and waits read. */
import { html } from '../../src/console/pages';
import { age, localeOf, money, textOf } from '../../src/console/text';

describe('the console language', () => {
  it('is the one asked for, then the remembered one, then the browser’s first choice we speak', () => {
    expect(localeOf('zh-CN', 'en', 'en-US')).toBe('zh-CN');
    expect(localeOf(undefined, 'zh-CN', 'en-US')).toBe('zh-CN');
    expect(localeOf('fr', undefined, 'zh-TW,zh;q=0.9')).toBe('zh-CN');
    expect(localeOf(undefined, 'klingon', 'de-DE,en;q=0.5')).toBe('en');
  });
});

describe('amounts and waits', () => {
  it('reads amounts from minor units per currency, exactly', () => {
    expect(money(60_000, 'CNY')).toBe('¥600.00');
    expect(money(123_456_789, 'USD')).toBe('$1,234,567.89');
    expect(money(500, 'JPY')).toBe('¥500');
    expect(money(1, 'SGD')).toBe('0.01 SGD');
  });

  it('says how long something waited in the reader’s units', () => {
    const now = Date.parse('2026-11-24T12:00:00Z');
    expect(age(now - 5 * 60_000, now, textOf('en'))).toBe('5 min');
    expect(age(now - 200 * 60_000, now, textOf('en'))).toBe('3 h 20 min');
    expect(age(now - 3 * 86_400_000 - 2 * 3_600_000, now, textOf('zh-CN'))).toBe('3 天 2 小时');
  });
});

describe('pages', () => {
  it('escapes every value put into HTML', () => {
    expect(html`<td>${'<script>alert("x")</script>'}</td>`.value).toBe('<td>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</td>');
    expect(html`<p>${html`<b>${"it's"}</b>`}</p>`.value).toBe('<p><b>it&#39;s</b></p>');
  });
});
