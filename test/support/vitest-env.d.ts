// Values the integration project's global setup (test/global-setup.ts) provides to tests.
export {};

declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of the shared real MLflow tracking server, e.g. http://127.0.0.1:41234 */
    mlflowUrl: string;
    /** Base URL of the shared moto server (S3, CloudWatch, ...). */
    motoUrl: string;
  }
}
