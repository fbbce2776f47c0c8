/**
 * Links to the AWS console for an endpoint: its SageMaker page and the CloudWatch alarms mlops
 * makes for it (their names start with the endpoint's name). The console's host depends on the
 * partition: aws-cn and aws-us-gov have their own.
 */

export interface ConsoleLinks {
  /** The endpoint's page in the SageMaker console. */
  sagemaker: string;
  /** The CloudWatch alarms page, filtered to the endpoint's alarms. */
  alarms: string;
}

/** The console's base URL for a region. */
function consoleBase(region: string): string {
  if (region.startsWith('cn-')) return `https://${region}.console.amazonaws.cn`;
  if (region.startsWith('us-gov-')) return 'https://console.amazonaws-us-gov.com';
  return `https://${region}.console.aws.amazon.com`;
}

/** The SageMaker and CloudWatch console links for an endpoint in a region. */
export function consoleLinks(region: string, endpoint: string): ConsoleLinks {
  const base = consoleBase(region);
  const r = encodeURIComponent(region);
  const name = encodeURIComponent(endpoint);
  return {
    sagemaker: `${base}/sagemaker/home?region=${r}#/endpoints/${name}`,
    // The alarms list's search box, in the console's own URL form; endpoint names are [a-zA-Z0-9-].
    alarms: `${base}/cloudwatch/home?region=${r}#alarmsV2:?~(search~'${name})`,
  };
}

/** The links as lines for people (printed when promote and rollback start). */
export function linkLines(l: ConsoleLinks): string[] {
  return [`SageMaker console:  ${l.sagemaker}`, `CloudWatch alarms:  ${l.alarms}`];
}
