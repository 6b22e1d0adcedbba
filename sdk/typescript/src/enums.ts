/**
 * The relay's enumerations (its closed lists, checked against the OpenAPI document by the SDK's
 * test) and the display blocks the authenticator app renders. Each is a frozen object of values and
 * a union type of the same name: `DataType.CURRENCY_USD` and the plain string `'CURRENCY_USD'` are
 * the same thing.
 */

/** How the authenticator renders a field (the relay's `data_type` list). */
export const DataType = {
  CURRENCY_USD: 'CURRENCY_USD',
  CURRENCY_EUR: 'CURRENCY_EUR',
  CURRENCY_GBP: 'CURRENCY_GBP',
  IBAN: 'IBAN',
  DATE: 'DATE',
  DATETIME: 'DATETIME',
  PARTY_NAME: 'PARTY_NAME',
  ENTITY_REFERENCE: 'ENTITY_REFERENCE',
  TEXT: 'TEXT',
  NUMBER: 'NUMBER',
  EMAIL: 'EMAIL',
  PHONE: 'PHONE',
  URL: 'URL',
  IP_ADDRESS: 'IP_ADDRESS',
  LOCATION: 'LOCATION',
} as const;
export type DataType = (typeof DataType)[keyof typeof DataType];

/** The relay's `custom_type`: how the user confirms on the device. */
export const SudoActionType = { LOCAL_AUTH: 'localAuth', TOTP: 'totp', GOLDEN_NUMBER: 'goldenNumber' } as const;
export type SudoActionType = (typeof SudoActionType)[keyof typeof SudoActionType];

/** What a sudo dispatch does to the data (`action_type`). */
export const ActionType = { CREATION: 'creation', DELETION: 'deletion', UPDATE: 'update', UPSERT: 'upsert' } as const;
export type ActionType = (typeof ActionType)[keyof typeof ActionType];

/** The kinds of sudo event (and `auth_challenge`, the single-approver push of `sudoRequired`). */
export const SudoEventType = {
  SUDO_ACTION: 'sudo_action',
  SUDO_GROUP_ACTION: 'sudo_group_action',
  SUDO_DELEGATED_ACTION: 'sudo_delegated_action',
  AUTH_CHALLENGE: 'auth_challenge',
} as const;
export type SudoEventType = (typeof SudoEventType)[keyof typeof SudoEventType];

export const ApprovalStatus = {
  PENDING: 'pending',
  APPROVED: 'approved',
  DENIED: 'denied',
  EXPIRED: 'expired',
  CANCELLED: 'cancelled',
} as const;
export type ApprovalStatus = (typeof ApprovalStatus)[keyof typeof ApprovalStatus];

/** The statuses an ApprovalEvent can carry: an approval request ends in one of them, once. */
export const FINAL_STATUSES = ['approved', 'denied', 'expired', 'cancelled'] as const;
export type FinalStatus = (typeof FINAL_STATUSES)[number];

/** One line of what the user approves: `key`, `title` (the label), `value`, `dataType` (default TEXT). */
export interface ValidationField {
  key: string;
  title: string;
  value: string;
  dataType: DataType;
}

/** A field as written by hand: `dataType` defaults to TEXT and `value` may be a number. */
export type FieldInput = Omit<ValidationField, 'dataType' | 'value'> & { value: string | number; dataType?: DataType };

export const DATA_TYPES = Object.values(DataType) as [DataType, ...DataType[]];
export const SUDO_ACTION_TYPES = Object.values(SudoActionType) as [SudoActionType, ...SudoActionType[]];
export const ACTION_TYPES = Object.values(ActionType) as [ActionType, ...ActionType[]];
export const SUDO_EVENT_TYPES = Object.values(SudoEventType) as [SudoEventType, ...SudoEventType[]];
export const APPROVAL_STATUSES = Object.values(ApprovalStatus) as [ApprovalStatus, ...ApprovalStatus[]];

/** Fields as the relay takes them: values as strings, TEXT when no type is given. */
export function validationFields(list: readonly FieldInput[] | undefined | null): ValidationField[] {
  return (list ?? []).map((f) => ({ key: f.key, title: f.title, value: String(f.value), dataType: f.dataType ?? DataType.TEXT }));
}
