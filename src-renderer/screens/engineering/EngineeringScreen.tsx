import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useSession } from '../../app/session.tsx';
import { PageHeader } from '../../components/index.ts';
import { type ScreenTab, ScreenTabs } from '../admin/ScreenTabs.tsx';
import { IssueTokenPanel } from './IssueTokenPanel.tsx';
import { TokenHelperPanel } from './TokenHelperPanel.tsx';
import './engineering.css';

type Section = 'issue' | 'helper';

/** Engineering tokens and the token helper, for engineers (and administrators). */
export function EngineeringScreen() {
  const { t } = useTranslation('engineering');
  const { can } = useSession();
  const [section, setSection] = useState<Section>('issue');
  const tabs: ScreenTab<Section>[] = [];
  if (can('engineering') || can('keyChange'))
    tabs.push({ id: 'issue', label: t('tab.issue'), content: <IssueTokenPanel /> });
  // tokens.explain needs the engineering permission.
  if (can('engineering')) tabs.push({ id: 'helper', label: t('tab.helper'), content: <TokenHelperPanel /> });
  const selected = tabs.some((tab) => tab.id === section) ? section : (tabs[0]?.id ?? 'issue');
  return (
    <div className="ov-eng">
      <PageHeader title={t('title')} description={t('description')} />
      <ScreenTabs label={t('tab.label')} tabs={tabs} selectedKey={selected} onSelectionChange={setSection} />
    </div>
  );
}
