import js from '@eslint/js';
import sonarjs from 'eslint-plugin-sonarjs';
import globals from 'globals';

export default [
  { ignores: ['dist/**', 'coverage/**', 'reports/**', '.gatehouse/**'] },
  js.configs.recommended,
  sonarjs.configs.recommended,
  { languageOptions: { globals: { ...globals.node } } },
];
