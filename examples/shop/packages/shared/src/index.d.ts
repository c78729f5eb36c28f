export interface Product {
  id: number;
  name: string;
  priceCents: number;
}
export function formatPrice(cents: number): string;
export function validateOrder(order: unknown): string[];
export function orderSubject(orderId: number): string;
