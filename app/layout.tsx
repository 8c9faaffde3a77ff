import type { Metadata } from 'next';
import { AppHeader } from '@/components/ui/app-header';
import './globals.css';

export const metadata: Metadata = {
  title: 'Trellis',
  description: 'Deterministic workflows first, agents second.',
};

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body className="flex h-full flex-col">
        <AppHeader />
        <main className="flex min-h-0 flex-1 flex-col">{children}</main>
      </body>
    </html>
  );
}
