/**
 * The refund's vocabulary, shared by the workflow, the activities, the database and the API.
 * Values only (no behaviour) so every layer can import it, the workflow bundle included.
 */

export const REFUND_STATUSES = [
  'pending_approval',
  'processing',
  'awaiting_settlement',
  'delayed',
  'requires_action',
  'succeeded',
  'correcting',
  'corrected',
  'rejected',
  'expired',
  'canceled',
] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];

export const PROVIDER_STATES = [
  'not_sent',
  'in_doubt',
  'accepted',
  'settled',
  'failed',
  'canceled',
  'returned',
] as const;
export type ProviderState = (typeof PROVIDER_STATES)[number];

export const PAYMENT_CHANNELS = ['card', 'wechat', 'alipay'] as const;
export type PaymentChannel = (typeof PAYMENT_CHANNELS)[number];

/** Where refund money can go: back along a payment channel, or by bank transfer. */
export const PROVIDER_NAMES = ['card', 'wechat', 'alipay', 'bank_transfer'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

/**
 * Where a provider attempt pays: the payer's own account, a bank account by our bank transfer, or
 * the payer's debit card by WeChat Pay's own transfer (its abnormal refund).
 */
export const DESTINATION_TYPES = ['original', 'bank_transfer', 'wechat_bank_card'] as const;

/**
 * A card refund's two shapes (issue #21), chosen by the workflow: a sale still in the acquirer's
 * open batch is voided (撤销: whole amount, the money never leaves the cardholder), any other is
 * refunded (退货). Wallet and bank-transfer attempts are always `refund`.
 */
export const REFUND_METHODS = ['refund', 'void'] as const;
export type RefundMethod = (typeof REFUND_METHODS)[number];

export const PAYMENT_STATUSES = ['pending', 'captured', 'settled', 'failed'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

export const REFUND_REASONS = [
  'defective',
  'not_received',
  'duplicate_charge',
  'wrong_amount',
  'order_canceled',
  'deposit_return',
  'customer_request',
  'fraud',
  'other',
] as const;
export type RefundReason = (typeof REFUND_REASONS)[number];

export const CUSTOMER_LOCALES = ['zh-CN', 'en'] as const;
export type CustomerLocale = (typeof CUSTOMER_LOCALES)[number];

export type Role = 'service' | 'support' | 'supervisor';

/** The person or system behind an action, as the event log records it. */
export interface Actor {
  principal: string;
  role: Role | 'system' | 'provider';
}

export const SYSTEM_ACTOR: Actor = { principal: 'refundflow', role: 'system' };
