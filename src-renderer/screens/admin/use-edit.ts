interface Resettable {
  data: unknown;
  error: unknown;
  reset: () => void;
}

/** Wraps a field setter so that a new edit hides the outcome (saved / failed) of the last save. */
export function useEdit(mutation: Resettable) {
  return <T>(set: (value: T) => void) =>
    (value: T) => {
      if (mutation.data || mutation.error) mutation.reset();
      set(value);
    };
}
