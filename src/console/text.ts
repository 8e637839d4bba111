/**
 * The console's words in English and Simplified Chinese, and how amounts read in each. One table
 * per language with the same keys (the type makes a missing translation a compile error).
 */
import { formatMinorUnits } from '../../workflows/money';

export const LOCALES = ['en', 'zh-CN'] as const;
export type Locale = (typeof LOCALES)[number];

const en = {
  title: 'refundflow console',
  signIn: 'Sign in',
  signOut: 'Sign out',
  apiKey: 'Your API key',
  signInHelp: 'Supervisors and support staff sign in with the API key they were given.',
  unknownKey: 'That key is not known.',
  serviceKey: 'Service keys belong to machines and cannot sign in to the console.',
  signedInAs: 'Signed in as',
  inbox: 'Approvals inbox',
  inboxEmpty: 'Nothing waits for approval.',
  refund: 'Refund',
  amount: 'Amount',
  reason: 'Reason',
  requester: 'Requested by',
  payment: 'Payment',
  age: 'Waiting',
  expires: 'Expires',
  status: 'Status',
  approve: 'Approve',
  reject: 'Reject',
  comment: 'Comment (optional)',
  rejectReason: 'Reason for rejecting',
  approvals: 'Approvals',
  timeline: 'Timeline',
  proposal: 'Open proposal',
  approveProposal: 'Approve proposal',
  rejectProposal: 'Reject proposal',
  cannotDecide: 'You cannot decide this one:',
  approved: 'Approved.',
  rejected: 'Rejected.',
  refused: 'Not done:',
  notFound: 'No such page.',
  forbidden: 'Your role does not open this page.',
  language: '中文',
  destination: 'Destination',
  provider: 'Provider',
  deadlines: 'Deadlines',
  paymentTotals: 'Payment',
  refunded: 'refunded',
  reserved: 'held for refunds',
  of: 'of',
  needsAttention: 'needs attention',
  minutes: 'min',
  hours: 'h',
  days: 'd',
  live: 'Updates on its own every 10 s.',
  desk: 'Stuck refunds',
  deskEmpty: 'No refund needs anyone.',
  why: 'Why',
  retry: 'Retry on the same route',
  cancel: 'Cancel',
  cancelReason: 'Reason for canceling',
  reroute: 'Propose a bank transfer',
  account: 'Bank account number',
  accountName: 'Account holder',
  rerouteReason: 'Why this account',
  proposed: 'Proposed: a supervisor other than you approves it.',
  retried: 'Sent again.',
  canceled: 'Canceled.',
};

const zhCN: typeof en = {
  title: 'refundflow 控制台',
  signIn: '登录',
  signOut: '退出登录',
  apiKey: '您的 API 密钥',
  signInHelp: '主管和客服人员使用分配给自己的 API 密钥登录。',
  unknownKey: '无法识别该密钥。',
  serviceKey: '服务密钥属于系统调用方，不能登录控制台。',
  signedInAs: '当前用户',
  inbox: '待审批',
  inboxEmpty: '暂无待审批的退款。',
  refund: '退款',
  amount: '金额',
  reason: '原因',
  requester: '申请人',
  payment: '支付单',
  age: '已等待',
  expires: '过期时间',
  status: '状态',
  approve: '批准',
  reject: '驳回',
  comment: '备注（可选）',
  rejectReason: '驳回原因',
  approvals: '审批记录',
  timeline: '处理记录',
  proposal: '待审批的变更',
  approveProposal: '批准变更',
  rejectProposal: '驳回变更',
  cannotDecide: '您不能审批此项：',
  approved: '已批准。',
  rejected: '已驳回。',
  refused: '未完成：',
  notFound: '页面不存在。',
  forbidden: '您的角色无权打开此页面。',
  language: 'English',
  destination: '退款去向',
  provider: '渠道',
  deadlines: '时限',
  paymentTotals: '支付单',
  refunded: '已退款',
  reserved: '退款中',
  of: '共',
  needsAttention: '需要处理',
  minutes: '分钟',
  hours: '小时',
  days: '天',
  live: '每 10 秒自动刷新。',
  desk: '异常退款',
  deskEmpty: '没有需要处理的退款。',
  why: '原因',
  retry: '按原渠道重试',
  cancel: '取消',
  cancelReason: '取消原因',
  reroute: '提议改为银行转账',
  account: '银行账号',
  accountName: '账户名',
  rerouteReason: '改用此账户的原因',
  proposed: '已提交：需由另一位主管批准。',
  retried: '已重新发送。',
  canceled: '已取消。',
};

export type Text = typeof en;

export function textOf(locale: Locale): Text {
  return locale === 'zh-CN' ? zhCN : en;
}

/** The language asked for (`?lang=`, then the cookie), else the browser's first choice we speak. */
export function localeOf(asked: unknown, cookie: string | undefined, acceptLanguage: string | undefined): Locale {
  for (const candidate of [asked, cookie]) if (LOCALES.includes(candidate as Locale)) return candidate as Locale;
  return /^\s*zh/i.test(acceptLanguage ?? '') ? 'zh-CN' : 'en';
}

const SYMBOLS: Record<string, string> = { CNY: '¥', USD: '$', EUR: '€', GBP: '£', JPY: '¥', HKD: 'HK$' };

/** `25000, CNY` → `¥250.00`; exact, from integer minor units. */
export function money(amount: number, currency: string): string {
  const symbol = SYMBOLS[currency];
  return symbol ? `${symbol}${formatMinorUnits(amount, currency)}` : `${formatMinorUnits(amount, currency)} ${currency}`;
}

/** How long something has waited, in the reader's words: `3 h 20 min`. */
export function age(sinceMs: number, nowMs: number, text: Text): string {
  const minutes = Math.max(0, Math.floor((nowMs - sinceMs) / 60_000));
  if (minutes < 60) return `${minutes} ${text.minutes}`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} ${text.hours} ${minutes % 60} ${text.minutes}`;
  return `${Math.floor(hours / 24)} ${text.days} ${hours % 24} ${text.hours}`;
}
