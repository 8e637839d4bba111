/** The console's words: which language a reader gets, how amounts and waits read. */
import { html, reportsPage } from '../../src/console/pages';
import { age, duration, eventIn, localeOf, money, refusalIn, textOf } from '../../src/console/text';
import { checkApproval } from '../../workflows/decision-rules';
import type { RefundRequestError } from '../../workflows/refusals';

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

  it('charts counts on one scale and amounts on one scale per currency, never adding currencies up', () => {
    const summary = { refunds: 4, timeToSettleSeconds: { p50: 30, p90: 90 }, approvalLeadTimeSeconds: { p50: null, p90: null }, needsAttentionShare: 0.25 };
    const byReason = [
      { key: 'defective', currency: 'CNY', count: 2, amount: 40_000 },
      { key: 'defective', currency: 'USD', count: 1, amount: 500 },
      { key: 'fraud', currency: 'CNY', count: 1, amount: 10_000 },
    ];
    const page = reportsPage({ locale: 'en', text: textOf('en') }, { from: '2026-11-01', to: '2026-11-24', summary, byReason, byChannel: [], byDay: [] });
    expect(page).toContain('aria-label="By reason: defective 3 (¥400.00, $5.00); fraud 1 (¥100.00)"');
    // Widest bars: the most refunds (3), the most yuan (¥400) and the most dollars ($5) each fill the scale.
    const bars = [...page.matchAll(/<rect x="150" y="(\d+)" width="(\d+)"/g)].filter((match) => match[1] !== '4'); // not the legend
    const widths = bars.map((match) => Number(match[2]));
    expect(widths).toEqual([220, 220, 220, 73, 55]);
    expect(page).toContain('p50 30 s');
    expect(page).toContain('25.0%');
  });
});

describe('refusals in the reader’s language', () => {
  const approval = {
    status: 'pending_approval' as const,
    requestedBy: 'supervisor-a',
    createdBy: 'pos-backend',
    requiredApprovals: 1,
    approvals: [],
    proposal: null,
    amount: 60_000,
    fee: 0,
    redirectable: false,
    corrections: [],
    busy: null,
  };
  const refusalOf = (rule: () => void) => {
    try {
      rule();
    } catch (error) {
      return error as RefundRequestError;
    }
    throw new Error('the rule allowed it');
  };

  it('names the rule that refused, so zh-CN readers get it in Chinese and API callers can tell the rules apart', () => {
    const own = refusalOf(() => checkApproval(approval, { principal: 'supervisor-a', role: 'supervisor' }));
    expect(own.facts).toEqual({ rule: 'requested_it' });
    expect(refusalIn(textOf('en'), own)).toBe('you requested this refund; someone else must decide');
    expect(refusalIn(textOf('zh-CN'), own)).toBe('这笔退款由您申请，须由其他人审批');

    const late = refusalOf(() => checkApproval({ ...approval, status: 'succeeded' }, { principal: 'supervisor-b', role: 'supervisor' }));
    expect(late.facts).toEqual({ rule: 'status', allowed: ['pending_approval'] });
    expect(refusalIn(textOf('zh-CN'), { message: late.message, facts: { ...late.facts, refundStatus: 'succeeded' } })).toBe('退款当前为「已退款」；此操作需要「待审批」');
    expect(refusalIn(textOf('en'), { message: late.message, facts: { ...late.facts, refundStatus: 'succeeded' } })).toBe('the refund is succeeded; this needs pending approval');
  });

  it('falls back to the API’s own words where no rule is named', () => {
    expect(refusalIn(textOf('zh-CN'), { message: 'the refund’s workflow is not running yet', facts: {} })).toBe('the refund’s workflow is not running yet');
  });

  it('names every recorded event type it knows, and shows an unknown one as recorded', () => {
    expect(eventIn(textOf('zh-CN'), 'settlement_deadline_passed')).toBe('已超过到账时限');
    expect(eventIn(textOf('en'), 'something_new')).toBe('something_new');
    expect(Object.keys(textOf('zh-CN').events).sort()).toEqual(Object.keys(textOf('en').events).sort());
  });

  it('reads short lengths of time in seconds', () => {
    expect(duration(42, textOf('en'))).toBe('42 s');
    expect(duration(7_500, textOf('zh-CN'))).toBe('2 小时 5 分钟');
  });
});
