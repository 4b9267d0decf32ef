import { describe, expect, it } from 'vitest';
import { catalogues, locales } from './catalogues';
import { en } from './en';
import {
  formatCalendarDate,
  formatDate,
  formatDateTime,
  formatDuration,
  formatMoneyCents,
  formatNumber,
  formatTime,
  interpolate,
  pickBilingual,
  splitDuration,
  translate,
} from './format';
import { applyLocale, currentLocale, t } from './locale.svelte';
import { zhCN } from './zh-CN';

const shanghai = { timeZone: 'Asia/Shanghai' };

function placeholders(template: string): string[] {
  return [...template.matchAll(/\{(\w+)\}/g)].map((match) => match[1] ?? '').sort();
}

describe('catalogues', () => {
  it('have exactly the same keys', () => {
    expect(Object.keys(zhCN).sort()).toEqual(Object.keys(en).sort());
  });

  it('use the same placeholders for every key', () => {
    for (const key of Object.keys(en) as (keyof typeof en)[]) {
      expect(placeholders(zhCN[key]), key).toEqual(placeholders(en[key]));
    }
  });

  it('have no empty message', () => {
    for (const locale of locales) {
      for (const [key, message] of Object.entries(catalogues[locale])) {
        expect(message.trim(), `${locale} ${key}`).not.toBe('');
      }
    }
  });

  it('name the fault levels, kinds, methods and standards as the sources do', () => {
    expect(zhCN['level.critical.long']).toContain('一级');
    expect(zhCN['level.critical.long']).toContain('重大故障');
    expect(zhCN['level.major.long']).toContain('主要故障');
    expect(zhCN['level.minor.long']).toContain('次要故障');
    expect(['repair', 'patrol', 'maintenance', 'installation', 'return_visit'].map((k) => zhCN[`kind.${k}` as keyof typeof en])).toEqual(
      ['维修', '巡检', '保养', '安装调试', '回访'],
    );
    expect(['listen', 'touch', 'look', 'smell', 'test'].map((m) => zhCN[`method.${m}` as keyof typeof en]).join('')).toBe('听摸视嗅验');
    expect(zhCN['standard.four_no']).toBe('四无');
    expect(zhCN['standard.six_no_leak']).toBe('六不漏');
    expect(zhCN['billing.warranty']).toContain('三包');
    expect(['respond', 'arrive', 'resolve', 'loaner'].map((d) => zhCN[`deadline.${d}` as keyof typeof en])).toEqual(
      ['响应', '到场', '修复', '备机'],
    );
  });
});

describe('interpolation', () => {
  it('fills named placeholders in either language', () => {
    expect(translate('en', 'countdown.left', { kind: 'Arrive', duration: '1 h 12 min' })).toBe('Arrive in 1 h 12 min');
    expect(translate('zh-CN', 'countdown.left', { kind: '到场', duration: '1小时12分' })).toBe('到场 剩余 1小时12分');
    expect(translate('zh-CN', 'countdown.overdue', { kind: '到场', duration: '25分' })).toBe('到场 已超时 25分');
  });

  it('formats numbers for the locale', () => {
    expect(translate('en', 'list.count', { count: 10000 })).toBe('Work orders: 10,000');
    expect(translate('zh-CN', 'list.count', { count: 10000 })).toBe('共 10,000 张工单');
  });

  it('leaves a placeholder without a value as it is, and repeats work', () => {
    expect(interpolate('en', '{a} and {b} and {a}', { a: 'x' })).toBe('x and {b} and x');
    expect(interpolate('en', 'no params', undefined)).toBe('no params');
  });

  it('returns messages without placeholders unchanged', () => {
    expect(translate('zh-CN', 'app.name')).toBe('现场服务记录');
    expect(translate('en', 'app.name')).toBe('Fieldbook');
  });
});

describe('the current locale', () => {
  it('switches what t() returns', () => {
    applyLocale('en');
    expect(currentLocale()).toBe('en');
    expect(t('status.on_site')).toBe('On site');
    applyLocale('zh-CN');
    expect(t('status.on_site')).toBe('在现场');
    expect(t('list.group', { status: t('status.on_site'), count: 3 })).toBe('在现场 · 3');
  });
});

describe('bilingual data', () => {
  it('shows the current language, falling back to the other when blank', () => {
    const label = { zh: '机柜密封良好', en: 'Cabinet sealed' };
    expect(pickBilingual('zh-CN', label)).toBe('机柜密封良好');
    expect(pickBilingual('en', label)).toBe('Cabinet sealed');
    expect(pickBilingual('en', { zh: '仅中文', en: ' ' })).toBe('仅中文');
  });
});

describe('dates and times', () => {
  const instant = '2026-11-20T02:00:00Z'; // 10:00 in Beijing

  it('formats date and time in zh-CN', () => {
    expect(formatDateTime('zh-CN', instant, shanghai)).toBe('2026年11月20日 10:00');
    expect(formatDate('zh-CN', instant, shanghai)).toBe('2026年11月20日');
    expect(formatTime('zh-CN', instant, shanghai)).toBe('10:00');
  });

  it('formats date and time in English, day first and on a 24-hour clock', () => {
    expect(formatDateTime('en', instant, shanghai)).toBe('20 Nov 2026, 10:00');
    expect(formatTime('en', '2026-11-20T15:05:00+08:00', shanghai)).toBe('15:05');
  });

  it('uses the zone it is given: UTC midnight is 08:00 in Beijing', () => {
    expect(formatDateTime('en', '2026-11-20T00:00:00Z', { timeZone: 'UTC' })).toBe('20 Nov 2026, 00:00');
    expect(formatDateTime('en', '2026-11-20T00:00:00Z', shanghai)).toBe('20 Nov 2026, 08:00');
  });

  it('formats a calendar date without moving it to another day', () => {
    expect(formatCalendarDate('zh-CN', '2027-03-31')).toBe('2027年3月31日');
    expect(formatCalendarDate('en', '2027-03-31')).toBe('31 Mar 2027');
  });

  it('shows text it cannot read as it is', () => {
    expect(formatDateTime('en', 'not a date')).toBe('not a date');
    expect(formatCalendarDate('en', 'someday')).toBe('someday');
  });
});

describe('numbers and money', () => {
  it('groups digits and keeps decimals', () => {
    expect(formatNumber('en', 12345.5)).toBe('12,345.5');
    expect(formatNumber('zh-CN', 12345.5)).toBe('12,345.5');
  });

  it('shows cents as yuan', () => {
    expect(formatMoneyCents('zh-CN', 8800)).toBe('¥88.00');
    expect(formatMoneyCents('en', 8800)).toBe('CN¥88.00');
  });
});

describe('durations', () => {
  it('splits seconds into units', () => {
    expect(splitDuration(90061)).toEqual({ days: 1, hours: 1, minutes: 1, seconds: 1 });
    expect(splitDuration(-5)).toEqual({ days: 0, hours: 0, minutes: 0, seconds: 0 });
  });

  it('reads at a glance in both languages', () => {
    const cases: [number, string, string][] = [
      [4320, '1 h 12 min', '1小时12分'],
      [4379, '1 h 12 min', '1小时12分'],
      [1500, '25 min', '25分'],
      [600, '10 min', '10分'],
      [599, '9 min 59 s', '9分59秒'],
      [245, '4 min 5 s', '4分5秒'],
      [45, '45 s', '45秒'],
      [0, '0 s', '0秒'],
      [90000, '1 d 1 h', '1天1小时'],
      [3 * 86400, '3 d 0 h', '3天0小时'],
    ];
    for (const [seconds, english, chinese] of cases) {
      expect(formatDuration('en', seconds), `${seconds}`).toBe(english);
      expect(formatDuration('zh-CN', seconds), `${seconds}`).toBe(chinese);
    }
  });
});
