// Class names the generated forms and the hand-written inspector fields share.

export const labelClass = 'mb-1 block text-[11px] font-medium text-slate-600';
export const inputClass =
  'h-7 w-full rounded-md border border-slate-300 bg-white px-2 text-xs outline-none focus:border-brand-500 focus:ring-2 focus:ring-brand-500/20 aria-[invalid=true]:border-red-400';
