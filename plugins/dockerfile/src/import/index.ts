export interface ImportFinding { code: string; line: number; message: string }
export interface ImportResult { yaml: string; findings: ImportFinding[] }
export function importDockerfile(_text: string): ImportResult { throw new Error('not yet'); }
