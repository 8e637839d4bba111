/**
 * Registers the refund search attributes on a Temporal namespace that lacks them: a cluster set
 * up by hand, or the time-skipping test server. (The embedded dev server gets them at launch.)
 */
import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { REFUND_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';

const INDEXED_TYPE: Record<string, temporal.api.enums.v1.IndexedValueType> = {
  KEYWORD: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  INT: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
  BOOL: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
};

export async function registerRefundSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(REFUND_SEARCH_ATTRIBUTES.map((key) => [key.name, INDEXED_TYPE[key.type]!])),
  });
}
