import type { Key, ReactNode } from 'react';
import { Tab, TabList, TabPanel, Tabs } from 'react-aria-components';
import './admin.css';

export interface ScreenTab<K extends string = string> {
  id: K;
  label: string;
  content: ReactNode;
}

export interface ScreenTabsProps<K extends string> {
  /** Accessible name of the tab list. */
  label: string;
  tabs: readonly ScreenTab<K>[];
  selectedKey: K;
  onSelectionChange: (key: K) => void;
  className?: string | undefined;
}

/**
 * The sections of a screen as tabs (arrow keys move between tabs, Tab goes into the panel). Only the selected
 * panel is mounted, so each section loads its data when opened. Generic: the engineering screen uses it too.
 */
export function ScreenTabs<K extends string>({
  label,
  tabs,
  selectedKey,
  onSelectionChange,
  className,
}: ScreenTabsProps<K>) {
  return (
    <Tabs
      selectedKey={selectedKey}
      onSelectionChange={(key: Key) => onSelectionChange(String(key) as K)}
      className={['ov-tabs', className].filter(Boolean).join(' ')}
    >
      <TabList aria-label={label} className="ov-tabs__list">
        {tabs.map((tab) => (
          <Tab key={tab.id} id={tab.id} className="ov-tabs__tab">
            {tab.label}
          </Tab>
        ))}
      </TabList>
      {tabs.map((tab) => (
        <TabPanel key={tab.id} id={tab.id} className="ov-tabs__panel">
          {tab.content}
        </TabPanel>
      ))}
    </Tabs>
  );
}
