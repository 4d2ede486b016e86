import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { luhnCheckDigit } from '../../src-shared/sts/meter-pan.ts';

/** Writes a campaign CSV of `count` distinct meters: DKGA02/EA07, SGC 123456 KRN 1 → KRN 2, base date 1993 → 2014. */
export async function writeCampaignMeters(path: string, count: number): Promise<void> {
  const out = createWriteStream(path);
  const header =
    'pan,sgc,ti,krn,kt,ea,dkga,base_date,new_sgc,new_ti,new_krn,new_kt,new_ea,new_dkga,new_base_date,new_ken\n';
  out.write(header);
  let chunk = '';
  for (let i = 0; i < count; i++) {
    const body = `600727${String(i).padStart(11, '0')}`;
    chunk += `${body}${luhnCheckDigit(body)},123456,01,1,2,EA07,DKGA02,1993,,,2,,,,2014,255\n`;
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
}

export const CAMPAIGN_KEYS = {
  vendingKeys: [
    { dkga: 'DKGA02', sgc: '123456', krn: 1, key: 'abababababababab' },
    { dkga: 'DKGA02', sgc: '123456', krn: 2, key: 'cdcdcdcdcdcdcdcd' },
  ],
};
