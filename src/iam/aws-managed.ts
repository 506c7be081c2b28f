/**
 * The AWS managed policies this store knows: the handful people attach when they script IAM
 * against an S3 endpoint. Their documents are AWS's current default versions; their ids, version
 * ids and dates are AWS's. Other arn:aws:iam::aws:policy/... ARNs are answered as AWS answers an
 * ARN that does not exist.
 */
export interface AwsManagedPolicy {
  name: string;
  id: string;
  path: string;
  description: string;
  defaultVersionId: string;
  createdAt: number;
  updatedAt: number;
  document: string;
}

function doc(statements: object[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements }, null, 2);
}

export const AWS_MANAGED_POLICIES: AwsManagedPolicy[] = [
  {
    name: 'AdministratorAccess',
    id: 'ANPAIWMBCKSKIEE64ZLYK',
    path: '/',
    description: 'Provides full access to AWS services and resources.',
    defaultVersionId: 'v1',
    createdAt: Date.parse('2015-02-06T18:39:46Z'),
    updatedAt: Date.parse('2015-02-06T18:39:46Z'),
    document: doc([{ Effect: 'Allow', Action: '*', Resource: '*' }]),
  },
  {
    name: 'AmazonS3FullAccess',
    id: 'ANPAIFIR6V6BVTRAHWINE',
    path: '/',
    description: 'Provides full access to all buckets via the AWS Management Console.',
    defaultVersionId: 'v2',
    createdAt: Date.parse('2015-02-06T18:40:58Z'),
    updatedAt: Date.parse('2021-09-27T20:16:37Z'),
    document: doc([{ Effect: 'Allow', Action: ['s3:*', 's3-object-lambda:*'], Resource: '*' }]),
  },
  {
    name: 'AmazonS3ReadOnlyAccess',
    id: 'ANPAIZTJ4DXE7G6AGAE6M',
    path: '/',
    description: 'Provides read only access to all buckets via the AWS Management Console.',
    defaultVersionId: 'v3',
    createdAt: Date.parse('2015-02-06T18:40:59Z'),
    updatedAt: Date.parse('2023-08-10T21:31:39Z'),
    document: doc([
      {
        Effect: 'Allow',
        Action: ['s3:Get*', 's3:List*', 's3:Describe*', 's3-object-lambda:Get*', 's3-object-lambda:List*'],
        Resource: '*',
      },
    ]),
  },
  {
    name: 'IAMFullAccess',
    id: 'ANPAI7XKCFMBPM3QQRRVQ',
    path: '/',
    description: 'Provides full access to IAM via the AWS Management Console.',
    defaultVersionId: 'v2',
    createdAt: Date.parse('2015-02-06T18:40:38Z'),
    updatedAt: Date.parse('2019-06-21T19:40:00Z'),
    document: doc([
      {
        Effect: 'Allow',
        Action: [
          'iam:*',
          'organizations:DescribeAccount',
          'organizations:DescribeOrganization',
          'organizations:DescribeOrganizationalUnit',
          'organizations:DescribePolicy',
          'organizations:ListChildren',
          'organizations:ListParents',
          'organizations:ListPoliciesForTarget',
          'organizations:ListRoots',
          'organizations:ListPolicies',
          'organizations:ListTargetsForPolicy',
        ],
        Resource: '*',
      },
    ]),
  },
  {
    name: 'IAMReadOnlyAccess',
    id: 'ANPAJKSO7NDY4T57MWDSQ',
    path: '/',
    description: 'Provides read only access to IAM via the AWS Management Console.',
    defaultVersionId: 'v4',
    createdAt: Date.parse('2015-02-06T18:40:39Z'),
    updatedAt: Date.parse('2018-01-25T19:11:27Z'),
    document: doc([
      {
        Effect: 'Allow',
        Action: [
          'iam:GenerateCredentialReport',
          'iam:GenerateServiceLastAccessedDetails',
          'iam:Get*',
          'iam:List*',
          'iam:SimulateCustomPolicy',
          'iam:SimulatePrincipalPolicy',
        ],
        Resource: '*',
      },
    ]),
  },
];
