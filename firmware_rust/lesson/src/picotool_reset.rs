//! The pico-sdk "reset interface" on USB, so `picotool reboot -u -f` and `picotool load -f` can put the board
//! into BOOTSEL (or restart it) without anyone pressing the button.
//!
//! A vendor-specific interface (class 0xFF, subclass 0x00, protocol 0x01) with no endpoints; picotool sends a
//! class request to it: RESET_REQUEST_BOOTSEL (wValue: bit 8 = use an activity LED, bits 9.. = its GPIO, bits
//! 0..6 = interfaces to disable) or RESET_REQUEST_FLASH (restart the application).

use core::marker::PhantomData;

use usb_device::class_prelude::*;
use usb_device::control::{Recipient, RequestType};

use crate::reboot;

const CLASS_VENDOR_SPECIFIC: u8 = 0xFF;
const RESET_INTERFACE_SUBCLASS: u8 = 0x00;
const RESET_INTERFACE_PROTOCOL: u8 = 0x01;
const RESET_REQUEST_BOOTSEL: u8 = 0x01;
const RESET_REQUEST_FLASH: u8 = 0x02;
const BOOTSEL_USE_GPIO_FLAG: u16 = 0x100;
const BOOTSEL_GPIO_SHIFT: u16 = 9;
const BOOTSEL_DISABLE_MASK: u16 = 0x7f;

pub struct PicotoolReset<'a, B: UsbBus> {
    interface: InterfaceNumber,
    _bus: PhantomData<&'a B>,
}

impl<'a, B: UsbBus> PicotoolReset<'a, B> {
    pub fn new(alloc: &'a UsbBusAllocator<B>) -> Self {
        Self { interface: alloc.interface(), _bus: PhantomData }
    }
}

impl<B: UsbBus> UsbClass<B> for PicotoolReset<'_, B> {
    fn get_configuration_descriptors(&self, writer: &mut DescriptorWriter) -> usb_device::Result<()> {
        writer.interface(self.interface, CLASS_VENDOR_SPECIFIC, RESET_INTERFACE_SUBCLASS, RESET_INTERFACE_PROTOCOL)
    }

    fn control_out(&mut self, xfer: ControlOut<B>) {
        let request = *xfer.request();
        if request.request_type != RequestType::Class
            || request.recipient != Recipient::Interface
            || request.index != u8::from(self.interface) as u16
        {
            return;
        }
        match request.request {
            RESET_REQUEST_BOOTSEL => {
                let gpio_mask = if request.value & BOOTSEL_USE_GPIO_FLAG != 0 {
                    1u32 << (request.value >> BOOTSEL_GPIO_SHIFT)
                } else {
                    0
                };
                let _ = xfer.accept();
                reboot::into_bootsel(gpio_mask, (request.value & BOOTSEL_DISABLE_MASK) as u32);
            }
            RESET_REQUEST_FLASH => {
                let _ = xfer.accept();
                reboot::restart();
            }
            _ => {
                let _ = xfer.reject();
            }
        }
    }
}
