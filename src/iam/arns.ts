/** ARNs of IAM and STS identities, built and taken apart. Only the `aws` partition exists here. */

export type IamResourceType = 'user' | 'role' | 'group' | 'policy';

export function iamArn(type: IamResourceType, accountId: string, path: string, name: string): string {
  return `arn:aws:iam::${accountId}:${type}${path}${name}`;
}

export function rootArn(accountId: string): string {
  return `arn:aws:iam::${accountId}:root`;
}

/** A role session's ARN: the role's path is not part of it (AWS leaves it out too). */
export function assumedRoleArn(accountId: string, roleName: string, sessionName: string): string {
  return `arn:aws:sts::${accountId}:assumed-role/${roleName}/${sessionName}`;
}

export interface ParsedIamArn {
  type: IamResourceType;
  /** 12 digits, or 'aws' for AWS managed policies. */
  accountId: string;
  path: string;
  name: string;
}

const IAM_ARN = /^arn:aws:iam::(\d{12}|aws):(user|role|group|policy)(\/(?:[^/]+\/)*)([^/]+)$/;

/** arn:aws:iam::123456789012:role/path/Name → its parts; undefined for anything else. */
export function parseIamArn(arn: string): ParsedIamArn | undefined {
  const m = IAM_ARN.exec(arn);
  if (!m) return undefined;
  return { accountId: m[1]!, type: m[2] as IamResourceType, path: m[3]!, name: m[4]! };
}
