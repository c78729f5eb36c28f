export function greet(name) {
  return `Hello from the greeting package, ${name}`;
}
