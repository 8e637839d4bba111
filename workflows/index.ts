// The workflow bundle's entry point: every workflow type the refunds task queue runs.
export { refundWorkflow } from './refund-workflow';
export { reconciliationWorkflow } from './reconciliation-workflow';
