// A faster instruction decoder in front of rp2040js's, for the instructions firmware executes most.
//
// rp2040js decodes each Thumb instruction by walking one long if/else chain in mnemonic order, so a load, a store
// or a conditional branch is found only after dozens of comparisons. An opcode histogram of MicroPython's VM
// running a sort puts ~90 % of executed instructions in the encodings below (LSLS/MOVS register 18 %, the
// 0x40-0x47 data-processing group 12 %, conditional branches 9 %, CMP 6 %, LDR/STR/LDRB immediate 15 %, PUSH/POP
// 8 %, ...). They are dispatched here on their top five
// bits with the same effects as rp2040js's own code (registers, flags through the core's own helpers, bus accesses
// through the core, cycle counts); everything else, and every instruction taken while an interrupt may be due,
// goes to rp2040js unchanged.

/** Give one rp2040js core (not its class: plain rp2040js stays as it is) the fast decoder. */
export function installFastDecode(core) {
  const slow = core.executeInstruction;
  const regs = core.registers;
  core.executeInstruction = function fastExecute() {
    if (this.interruptsUpdated) return slow.call(this);
    const pc = regs[15];
    const opcode = this.readUint16(pc & ~1);
    let cycles = 1;
    switch (opcode >> 11) {
      case 0b00000: { // LSLS (immediate); imm5 = 0 is MOVS (register)
        const imm5 = (opcode >> 6) & 0x1f;
        const input = regs[(opcode >> 3) & 0x7];
        const result = input << imm5;
        regs[opcode & 0x7] = result;
        this.N = !!(result & 0x80000000);
        this.Z = result === 0;
        this.C = imm5 ? !!(input & (1 << (32 - imm5))) : this.C;
        regs[15] = pc + 2;
        break;
      }
      case 0b00001: { // LSRS (immediate)
        const imm5 = (opcode >> 6) & 0x1f;
        const input = regs[(opcode >> 3) & 0x7];
        const result = imm5 ? input >>> imm5 : 0;
        regs[opcode & 0x7] = result;
        this.N = !!(result & 0x80000000);
        this.Z = result === 0;
        this.C = !!((input >>> (imm5 ? imm5 - 1 : 31)) & 0x1);
        regs[15] = pc + 2;
        break;
      }
      case 0b00010: { // ASRS (immediate)
        const imm5 = (opcode >> 6) & 0x1f;
        const input = regs[(opcode >> 3) & 0x7];
        const shiftN = imm5 ? imm5 : 32;
        const result = shiftN < 32 ? input >> shiftN : (input & 0x80000000) >> 31;
        regs[opcode & 0x7] = result;
        this.N = !!(result & 0x80000000);
        this.Z = (result & 0xffffffff) === 0;
        this.C = !!(input & (1 << (shiftN - 1)));
        regs[15] = pc + 2;
        break;
      }
      case 0b00011: { // ADDS/SUBS register or 3-bit immediate
        const Rd = opcode & 0x7;
        const Rn = (opcode >> 3) & 0x7;
        const field = (opcode >> 6) & 0x7;
        regs[15] = pc + 2;
        switch ((opcode >> 9) & 0x3) {
          case 0: regs[Rd] = this.addUpdateFlags(regs[Rn], regs[field]); break;
          case 1: regs[Rd] = this.substractUpdateFlags(regs[Rn], regs[field]); break;
          case 2: regs[Rd] = this.addUpdateFlags(regs[Rn], field); break;
          default: regs[Rd] = this.substractUpdateFlags(regs[Rn], field); break;
        }
        break;
      }
      case 0b00100: { // MOVS (immediate)
        const value = opcode & 0xff;
        regs[(opcode >> 8) & 7] = value;
        this.N = false;
        this.Z = value === 0;
        regs[15] = pc + 2;
        break;
      }
      case 0b00101: // CMP (immediate)
        regs[15] = pc + 2;
        this.substractUpdateFlags(regs[(opcode >> 8) & 0x7], opcode & 0xff);
        break;
      case 0b00110: { // ADDS (8-bit immediate)
        const Rdn = (opcode >> 8) & 0x7;
        regs[15] = pc + 2;
        regs[Rdn] = this.addUpdateFlags(regs[Rdn], opcode & 0xff);
        break;
      }
      case 0b00111: { // SUBS (8-bit immediate)
        const Rdn = (opcode >> 8) & 0x7;
        regs[15] = pc + 2;
        regs[Rdn] = this.substractUpdateFlags(regs[Rdn], opcode & 0xff);
        break;
      }
      case 0b01000: { // data processing on low registers, hi-register ADD/CMP/MOV, BX/BLX: the commonest three
        const op10 = opcode >> 6;
        if (op10 === 0b0100000000) { // ANDS (register)
          const Rdn = opcode & 0x7;
          const result = regs[Rdn] & regs[(opcode >> 3) & 0x7];
          regs[Rdn] = result;
          this.N = !!(result & 0x80000000);
          this.Z = result === 0;
        } else if (op10 === 0b0100001010) { // CMP (register), low registers
          this.substractUpdateFlags(regs[opcode & 0x7], regs[(opcode >> 3) & 0x7]);
        } else if (opcode >> 8 === 0b01000110) { // MOV (register), any registers but SP/PC as destination
          const Rm = (opcode >> 3) & 0xf;
          const Rd = ((opcode >> 4) & 0x8) | (opcode & 0x7);
          if (Rm === 15 || Rd >= 13) return slow.call(this);
          regs[Rd] = regs[Rm];
        } else {
          return slow.call(this);
        }
        regs[15] = pc + 2;
        break;
      }
      case 0b01110: { // STRB (immediate)
        const address = regs[(opcode >> 3) & 0x7] + ((opcode >> 6) & 0x1f);
        regs[15] = pc + 2;
        cycles += this.cyclesIO(address, true);
        this.writeUint8(address, regs[opcode & 0x7]);
        break;
      }
      case 0b10010: { // STR (SP plus immediate)
        const address = regs[13] + ((opcode & 0xff) << 2);
        regs[15] = pc + 2;
        cycles += this.cyclesIO(address, true);
        this.writeUint32(address, regs[(opcode >> 8) & 0x7]);
        break;
      }
      case 0b10110: { // ADD/SUB SP immediate, PUSH (rp2040js counts a cycle per low register, none for LR)
        if (opcode >> 8 === 0b10110000) {
          const imm = (opcode & 0x7f) << 2;
          regs[15] = pc + 2;
          this.SP = opcode & 0x80 ? regs[13] - imm : regs[13] + imm;
          break;
        }
        if (opcode >> 9 !== 0b1011010) return slow.call(this);
        regs[15] = pc + 2;
        let count = (opcode >> 8) & 1;
        for (let i = 0; i <= 7; i++) if (opcode & (1 << i)) count++;
        let address = regs[13] - 4 * count;
        for (let i = 0; i <= 7; i++) {
          if (opcode & (1 << i)) {
            this.writeUint32(address, regs[i]);
            cycles++;
            address += 4;
          }
        }
        if (opcode & 0x100) this.writeUint32(address, regs[14]);
        this.SP = regs[13] - 4 * count;
        break;
      }
      case 0b10111: { // POP only; a PC in the list goes through BXWritePC (exception return)
        if (opcode >> 9 !== 0b1011110) return slow.call(this);
        regs[15] = pc + 2;
        let address = regs[13];
        for (let i = 0; i <= 7; i++) {
          if (opcode & (1 << i)) {
            regs[i] = this.readUint32(address);
            address += 4;
            cycles++;
          }
        }
        if (opcode & 0x100) {
          this.SP = address + 4;
          this.BXWritePC(this.readUint32(address));
          cycles += 2;
        } else {
          this.SP = address;
        }
        break;
      }
      case 0b01001: { // LDR (literal)
        const address = ((pc + 4) & 0xfffffffc) + ((opcode & 0xff) << 2);
        regs[15] = pc + 2;
        cycles += this.cyclesIO(address);
        regs[(opcode >> 8) & 7] = this.readUint32(address);
        break;
      }
      case 0b01011: { // LDR (register) only
        if (opcode >> 9 !== 0b0101100) return slow.call(this);
        const address = regs[(opcode >> 6) & 0x7] + regs[(opcode >> 3) & 0x7];
        regs[15] = pc + 2;
        cycles += this.cyclesIO(address);
        regs[opcode & 0x7] = this.readUint32(address);
        break;
      }
      case 0b01100: { // STR (immediate)
        const address = regs[(opcode >> 3) & 0x7] + (((opcode >> 6) & 0x1f) << 2);
        regs[15] = pc + 2;
        cycles += this.cyclesIO(address, true);
        this.writeUint32(address, regs[opcode & 0x7]);
        break;
      }
      case 0b01101: { // LDR (immediate)
        const address = regs[(opcode >> 3) & 0x7] + (((opcode >> 6) & 0x1f) << 2);
        regs[15] = pc + 2;
        cycles += this.cyclesIO(address);
        regs[opcode & 0x7] = this.readUint32(address);
        break;
      }
      case 0b01111: { // LDRB (immediate)
        const address = regs[(opcode >> 3) & 0x7] + ((opcode >> 6) & 0x1f);
        regs[15] = pc + 2;
        cycles += this.cyclesIO(address);
        regs[opcode & 0x7] = this.readUint8(address);
        break;
      }
      case 0b10011: { // LDR (SP plus immediate)
        const address = regs[13] + ((opcode & 0xff) << 2);
        regs[15] = pc + 2;
        cycles += this.cyclesIO(address);
        regs[(opcode >> 8) & 0x7] = this.readUint32(address);
        break;
      }
      case 0b11010:
      case 0b11011: { // B<cond>; condition 0b1110 is UDF, 0b1111 is SVC: rp2040js's
        const cond = (opcode >> 8) & 0xf;
        if (cond >= 0b1110) return slow.call(this);
        regs[15] = pc + 2;
        if (this.checkCondition(cond)) {
          let imm9 = (opcode & 0xff) << 1;
          if (imm9 & 0x100) imm9 -= 0x200;
          regs[15] = pc + 4 + imm9;
          cycles++;
        }
        break;
      }
      case 0b11110: { // BL (the only 32-bit instruction that is frequent)
        const opcode2 = this.readUint16(pc + 2);
        if (opcode2 >> 14 !== 0b11 || ((opcode2 >> 12) & 0x1) !== 1) return slow.call(this);
        const S = (opcode >> 10) & 0x1;
        const I1 = 1 - (S ^ ((opcode2 >> 13) & 0x1));
        const I2 = 1 - (S ^ ((opcode2 >> 11) & 0x1));
        const imm32 = ((S ? 0b11111111 : 0) << 24) |
          ((I1 << 23) | (I2 << 22) | ((opcode & 0x3ff) << 12) | ((opcode2 & 0x7ff) << 1));
        regs[14] = (pc + 4) | 0x1;
        regs[15] = pc + 4 + imm32;
        cycles += 2;
        this.blTaken(this, false);
        break;
      }
      case 0b11100: { // B
        let imm12 = (opcode & 0x7ff) << 1;
        if (imm12 & 0x800) imm12 -= 0x1000;
        regs[15] = pc + 4 + imm12;
        cycles++;
        break;
      }
      default:
        return slow.call(this);
    }
    this.cycles += cycles;
    return cycles;
  };
}
