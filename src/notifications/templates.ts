/**
 * What the customer is told at each step, in Simplified Chinese and English. Every message names
 * the amount, the masked account and, once the provider has one, the reference the customer's
 * bank can trace; nothing here ever sees a full account number.
 */
import type { CustomerLocale } from '../../workflows/lifecycle';
import { formatMinorUnits } from '../../workflows/money';

export const NOTIFICATION_TEMPLATES = [
  'refund_sent',
  'refund_succeeded',
  'refund_follow_up',
  'refund_delayed',
  'refund_rejected',
  'refund_expired',
  'refund_canceled',
  'refund_returned',
  'refund_corrected',
  'refund_recovery',
] as const;
export type NotificationTemplate = (typeof NOTIFICATION_TEMPLATES)[number];

export interface NotificationFacts {
  customerName: string | null;
  orderId: string;
  amount: number;
  currency: string;
  maskedAccount: string;
  traceReference: string | null;
  /** `YYYY-MM-DD` in the business time zone. */
  expectedArrivalDate: string | null;
  settledDate: string | null;
  reasonGiven: string | null;
  /** What a correction moved (minor units): the excess reversed or asked back, the shortfall paid. */
  correctionAmount: number | null;
}

export interface RenderedNotification {
  subject: string;
  body: string;
}

type Renderer = (facts: NotificationFacts, money: string) => RenderedNotification;

const zh: Record<NotificationTemplate, Renderer> = {
  refund_sent: (f, money) => ({
    subject: `您的退款 ${money} 已提交`,
    body: `${greetingZh(f)}订单 ${f.orderId} 的退款 ${money} 已提交至 ${f.maskedAccount}，预计 ${f.expectedArrivalDate ?? '数个工作日内'} 前到账。${traceZh(f)}`,
  }),
  refund_succeeded: (f, money) => ({
    subject: `您的退款 ${money} 已到账`,
    body: `${greetingZh(f)}订单 ${f.orderId} 的退款 ${money} 已于 ${f.settledDate} 退回至 ${f.maskedAccount}。${traceZh(f)}`,
  }),
  refund_follow_up: (f, money) => ({
    subject: `退款 ${money} 是否已收到？`,
    body: `${greetingZh(f)}订单 ${f.orderId} 的退款 ${money} 已于 ${f.settledDate} 退回至 ${f.maskedAccount}。如您尚未收到，请联系我们并提供查询编号。${traceZh(f)}`,
  }),
  refund_delayed: (f, money) => ({
    subject: `您的退款 ${money} 到账时间延后`,
    body: `${greetingZh(f)}订单 ${f.orderId} 的退款 ${money} 仍在银行处理中，新的预计到账日期为 ${f.expectedArrivalDate}。${traceZh(f)}`,
  }),
  refund_rejected: (f, money) => ({
    subject: `您的退款申请 ${money} 未获批准`,
    body: `${greetingZh(f)}订单 ${f.orderId} 的退款申请 ${money} 未获批准。原因：${f.reasonGiven ?? '未说明'}。`,
  }),
  refund_expired: (f, money) => ({
    subject: `您的退款申请 ${money} 已过期`,
    body: `${greetingZh(f)}订单 ${f.orderId} 的退款申请 ${money} 未在规定时间内完成审批，已失效。如有需要请重新申请。`,
  }),
  refund_canceled: (f, money) => ({
    subject: `您的退款 ${money} 已取消`,
    body: `${greetingZh(f)}订单 ${f.orderId} 的退款 ${money} 已取消，款项不会退回至 ${f.maskedAccount}。`,
  }),
  refund_returned: (f, money) => ({
    subject: `更正：您的退款 ${money} 被银行退回`,
    body: `${greetingZh(f)}我们此前告知订单 ${f.orderId} 的退款 ${money} 已到账，但银行已将该款项从 ${f.maskedAccount} 退回。我们会尽快与您联系，改用其他方式退款。${traceZh(f)}`,
  }),
  refund_corrected: (f, money) => ({
    subject: `您的退款已更正为 ${money}`,
    body: `${greetingZh(f)}订单 ${f.orderId} 的退款已更正，现为 ${money}，退至 ${f.maskedAccount}。原因：${f.reasonGiven ?? '未说明'}。${traceZh(f)}`,
  }),
  refund_recovery: (f, money) => ({
    subject: `关于订单 ${f.orderId} 多退款项的说明`,
    body: `${greetingZh(f)}我们误向 ${f.maskedAccount} 多退了 ${correctionMoney(f, '¥')}，银行未能自动退回。您的正确退款金额为 ${money}，烦请将多退的款项退还给我们，我们会尽快与您联系。原因：${f.reasonGiven ?? '未说明'}。`,
  }),
};

const en: Record<NotificationTemplate, Renderer> = {
  refund_sent: (f, money) => ({
    subject: `Your refund of ${money} is on its way`,
    body: `${greetingEn(f)}The refund of ${money} for order ${f.orderId} has been sent to ${f.maskedAccount} and should arrive by ${f.expectedArrivalDate ?? 'within a few business days'}.${traceEn(f)}`,
  }),
  refund_succeeded: (f, money) => ({
    subject: `Your refund of ${money} has arrived`,
    body: `${greetingEn(f)}The refund of ${money} for order ${f.orderId} reached ${f.maskedAccount} on ${f.settledDate}.${traceEn(f)}`,
  }),
  refund_follow_up: (f, money) => ({
    subject: `Did you receive your refund of ${money}?`,
    body: `${greetingEn(f)}The refund of ${money} for order ${f.orderId} was paid to ${f.maskedAccount} on ${f.settledDate}. If you cannot see it, contact us and quote the trace reference.${traceEn(f)}`,
  }),
  refund_delayed: (f, money) => ({
    subject: `Your refund of ${money} is taking longer`,
    body: `${greetingEn(f)}The refund of ${money} for order ${f.orderId} is still with the bank. It should now arrive by ${f.expectedArrivalDate}.${traceEn(f)}`,
  }),
  refund_rejected: (f, money) => ({
    subject: `Your refund request of ${money} was not approved`,
    body: `${greetingEn(f)}The refund request of ${money} for order ${f.orderId} was not approved. Reason: ${f.reasonGiven ?? 'none given'}.`,
  }),
  refund_expired: (f, money) => ({
    subject: `Your refund request of ${money} has expired`,
    body: `${greetingEn(f)}The refund request of ${money} for order ${f.orderId} was not approved in time and has lapsed. Please ask again if you still need it.`,
  }),
  refund_canceled: (f, money) => ({
    subject: `Your refund of ${money} was canceled`,
    body: `${greetingEn(f)}The refund of ${money} for order ${f.orderId} was canceled; no money will be paid to ${f.maskedAccount}.`,
  }),
  refund_returned: (f, money) => ({
    subject: `Correction: your refund of ${money} was returned by the bank`,
    body: `${greetingEn(f)}We told you the refund of ${money} for order ${f.orderId} had arrived, but the bank has returned it from ${f.maskedAccount}. We will contact you to pay it another way.${traceEn(f)}`,
  }),
  refund_corrected: (f, money) => ({
    subject: `Your refund has been corrected to ${money}`,
    body: `${greetingEn(f)}The refund for order ${f.orderId} has been corrected and is now ${money}, paid to ${f.maskedAccount}. Reason: ${f.reasonGiven ?? 'none given'}.${traceEn(f)}`,
  }),
  refund_recovery: (f, money) => ({
    subject: `About an overpaid refund for order ${f.orderId}`,
    body: `${greetingEn(f)}We refunded ${correctionMoney(f, `${f.currency} `)} too much to ${f.maskedAccount} and the bank could not take it back. Your correct refund is ${money}; please return the excess, and we will contact you about how. Reason: ${f.reasonGiven ?? 'none given'}.`,
  }),
};

export function renderNotification(
  template: NotificationTemplate,
  locale: CustomerLocale,
  facts: NotificationFacts,
): RenderedNotification {
  const amount = formatMinorUnits(facts.amount, facts.currency);
  if (locale === 'zh-CN') return zh[template](facts, facts.currency === 'CNY' ? `¥${amount}` : `${facts.currency} ${amount}`);
  return en[template](facts, `${facts.currency} ${amount}`);
}

const correctionMoney = (f: NotificationFacts, prefix: string) => `${f.currency === 'CNY' ? prefix : `${f.currency} `}${formatMinorUnits(f.correctionAmount ?? 0, f.currency)}`;
const greetingZh = (f: NotificationFacts) => (f.customerName ? `${f.customerName}，您好！` : '您好！');
const greetingEn = (f: NotificationFacts) => (f.customerName ? `Dear ${f.customerName}, ` : '');
const traceZh = (f: NotificationFacts) => (f.traceReference ? `查询编号：${f.traceReference}。` : '');
const traceEn = (f: NotificationFacts) => (f.traceReference ? ` Trace reference: ${f.traceReference}.` : '');
