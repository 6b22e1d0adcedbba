/** The package's version (the SDK's test checks it against package.json). */
export const VERSION = '0.1.0';
