/** Zekt's version, as released; reported by `/api/health`. */
export const zektVersion = '0.1.0';
