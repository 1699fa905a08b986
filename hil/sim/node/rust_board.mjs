// The simulated Rust Pico is the one simulated Pico (pico_board.mjs) with Rust firmware in its flash; this name
// stays for supervisors that still start it.
import { main } from './pico_board.mjs';

main();
